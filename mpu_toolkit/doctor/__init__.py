"""``mpu doctor``: what a store honours, measured under a prefix of its own and cleaned up.

>>> report = mpu_toolkit.doctor("mpu://bucket/tmp", storage_options=so)  # doctest: +SKIP
>>> report.to_frame()            # one row per capability: supported, evidence
>>> report.recommended           # {"checksum": "crc32c", "if_none_match_put": True, ...}
>>> report.save()                # a user preset that provider="127-0-0-1-9000" finds

The doctor first proves it may write and delete under ``<prefix>/.mpu-doctor-<uuid>/``
(:mod:`.safety`), then runs the probe families concurrently — :mod:`.multipart`,
:mod:`.integrity`, :mod:`.conditional`, :mod:`.store` — and finally aborts and deletes all it
made there, listing again to count what is left (``left_behind``). No other key is touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import inspect
import time
import uuid
from typing import Any, Mapping

from .._engine.blocking import run_blocking
from .._s3.client import S3Client
from .._s3.part_path import route
from .._s3.providers import GENERIC, PROVIDERS, Provider
from ..errors import ConfigurationError, MPUError
from ..fs import MPUFileSystem, filesystem
from . import conditional, integrity, multipart, store
from .context import Capability, Probing, guarded
from .raw import RawS3
from .report import DoctorReport, recommend
from .safety import check_permissions, clean_up

__all__ = ["doctor", "DoctorReport", "Capability", "NAMES"]

FAMILIES = ((multipart.probe_multipart, multipart.NAMES),
            (integrity.probe_integrity, integrity.NAMES),
            (conditional.probe_conditional, conditional.NAMES),
            (store.probe_store, store.NAMES))
#: every probe's name, in the report's order
NAMES = tuple(name for _, names in FAMILIES for name in names)


def doctor(url: str, storage_options: Mapping[str, Any] | None = None, *,
           fs: MPUFileSystem | None = None, timeout: float = 10.0) -> DoctorReport:
    """Measure what the store of ``url`` (``mpu://bucket/prefix`` or ``bucket/prefix``)
    honours, under a new prefix ``<prefix>/.mpu-doctor-<uuid>/`` that it removes again.

    Refuses with :class:`~mpu_toolkit.ConfigurationError`, naming the missing permission,
    where it may not write, delete, list and abort there; ``timeout`` bounds each of its raw
    requests (seconds)."""
    bucket, prefix = _split(url)
    fs = filesystem(storage_options, fs)
    return run_blocking(fs.loop, _examine(fs, bucket, prefix, timeout))


def _split(url: str) -> tuple[str, str]:
    rest = url.partition("://")[2] if "://" in url else url
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ConfigurationError(f"{url!r} names no bucket: give mpu://BUCKET[/PREFIX]")
    prefix = prefix.strip("/")
    return bucket, (f"{prefix}/" if prefix else "") + f".mpu-doctor-{uuid.uuid4().hex}/"


async def _examine(fs: MPUFileSystem, bucket: str, prefix: str,
                   timeout: float) -> DoctorReport:
    started = time.monotonic()
    await fs.set_session()
    s3 = await fs.get_s3(bucket)
    region = s3.meta.region_name or "us-east-1"
    raw = RawS3(s3.meta.endpoint_url, await _credentials(s3), region, timeout,
                verify=fs.client_kwargs.get("verify"))
    probing = Probing(S3Client(fs), raw, bucket, prefix)
    try:
        await check_permissions(probing)
        found = await asyncio.gather(*(guarded(family, names, probing)
                                       for family, names in FAMILIES))
    except BaseException:  # the first error is the one to see, after a clean-up all the same
        with contextlib.suppress(MPUError):
            await clean_up(probing)
        raise
    finally:
        raw.close()
    left = await clean_up(probing)
    capabilities = {name: c for answers in found for name, c in answers.items()}
    preset = _preset(fs, raw.endpoint)
    return DoctorReport(raw.endpoint, bucket, preset.name if preset else None, capabilities,
                        recommend(capabilities, preset.addressing if preset else None), left,
                        time.monotonic() - started,
                        region, datetime.date.today().isoformat(), prefix, route(s3))


async def _credentials(s3: Any) -> Any:
    """The client's frozen credentials (what its requests are signed with)."""
    credentials = s3._request_signer._credentials
    if credentials is None:
        raise ConfigurationError("the doctor signs its requests: it needs credentials "
                                 "(anonymous access cannot write its probes)")
    frozen = credentials.get_frozen_credentials()
    return await frozen if inspect.isawaitable(frozen) else frozen


def _preset(fs: MPUFileSystem, endpoint: str) -> Provider | None:
    """The preset of ``fs`` (when one was named), else the one whose endpoint this is."""
    if fs.provider is not GENERIC:
        return fs.provider
    return next((p for p in PROVIDERS.values() if p.serves(endpoint)), None)
