"""What differs between S3 stores, kept in one place: presets of client settings, part rules
and what each server honours.

A :class:`Provider` says where a store is (``endpoint``, ``region``), how to talk to it
(addressing style, botocore's checksum mode), its multipart rules, what it is known to honour
(lifecycle aborts, conditional writes; ``None`` = unknown, so callers check rather than rely),
and where people look (console, pricing, the sources of these facts; ``measured``: which
values were measured instead, and how). The records are in
:mod:`.provider_presets`; :data:`GENERIC` (everything unknown) is the default. Server quirks
that change what an *error* means (Ceph RGW's NoSuchKey for an aborted upload ...) are folded
in :mod:`.errormap`, those of requests (RGW accepting part numbers 0 and 10,001) in
:mod:`.client`; each preset's ``quirks`` names them.
"""

from __future__ import annotations

import difflib
import re
import string
import warnings
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Literal, Mapping
from urllib.parse import urlsplit

from .. import hints
from ..errors import ConfigurationError
from . import user_presets
from .provider_presets import PRESETS

__all__ = ["Provider", "PROVIDERS", "GENERIC", "provider_named", "copies_by_reference",
           "preset_record"]

_MiB, _GiB = 1 << 20, 1 << 30


def _checksums_when_required() -> dict[str, Any]:
    # many S3-compatible stores reject or ignore botocore >= 1.36's default CRC32 trailers
    # (XAmzContentSHA256Mismatch on Yandex Object Storage, 411 on RGW 16)
    return {"request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required"}


def _unsigned_payload() -> dict[str, Any]:
    # the part's digest protects it (checksum=...); "sha256-payload" signs the hash it computed
    # beside the producer instead (see .signing), never hashing on the event loop
    return {"payload_signing_enabled": False}


@dataclass(frozen=True)
class Provider:
    """One store's preset: defaults for the client (the user's options override them), its
    part rules, and what it honours (``None``: unknown)."""

    name: str
    title: str
    #: URL, or template with ``{region}`` / ``{account_id}``; None: the user's or botocore's
    endpoint: str | None = None
    #: the SigV4 region when the user gives none
    region: str | None = None
    addressing: Literal["path", "virtual"] | None = None
    #: botocore ``Config`` defaults (the checksum mode)
    client_config: Mapping[str, Any] = field(default_factory=_checksums_when_required)
    #: botocore ``Config(s3=...)`` defaults
    s3_config: Mapping[str, Any] = field(default_factory=_unsigned_payload)
    min_part: int = 5 * _MiB  # every part but the last
    max_part: int = 5 * _GiB
    max_parts: int = 10_000
    #: all parts but the last must be the same size (Cloudflare R2)
    equal_parts: bool = False
    #: CopyObject shares the source's data instead of copying bytes (Ceph RGW)
    copies_by_reference: bool | None = None
    #: AbortIncompleteMultipartUpload lifecycle rules are honoured
    lifecycle: bool | None = None
    #: ``If-None-Match: *`` is honoured on PutObject / on CompleteMultipartUpload
    if_none_match_put: bool | None = None
    if_none_match_complete: bool | None = None
    #: ``If-Match: <etag>`` is honoured on PutObject
    if_match: bool | None = None
    #: ``x-amz-copy-source-if-match`` is honoured on UploadPartCopy / CopyObject
    copy_source_if_match: bool | None = None
    #: ListMultipartUploads finds uploads by a key prefix (False: only by the exact key, MinIO)
    list_uploads_by_prefix: bool | None = None
    #: the fastest integrity mode the store is known to verify, what ``checksum="auto"``
    #: picks (a :class:`~mpu_toolkit._plan.integrity.ChecksumMode` value); None: unknown, the
    #: generic default
    checksum: str | None = None
    console: str | None = None
    pricing: str | None = None
    #: short sentences: what differs from AWS, and how the toolkit copes
    quirks: tuple[str, ...] = ()
    #: where the values come from: URL + " (read <date>)", or a measurement
    sources: tuple[str, ...] = ()
    #: the values that were measured, not read: field name -> how, in one line (the
    #: request and what came back); every other value that is not None is documented by
    #: ``sources``
    measured: Mapping[str, str] = field(default_factory=dict)

    def config_kwargs(self, user: Mapping[str, Any] | None, *,
                      connections: int) -> dict[str, Any]:
        """botocore ``Config`` keywords: the user's, over this provider's defaults, with a
        connection pool of at least ``connections``."""
        config = self._config(user)
        config.setdefault("max_pool_connections", max(10, connections))
        return config

    def _config(self, user: Mapping[str, Any] | None) -> dict[str, Any]:
        config = {**self.client_config, **dict(user or {})}
        s3 = dict(self.s3_config)
        if self.addressing:
            s3["addressing_style"] = self.addressing
        config["s3"] = {**s3, **(config.get("s3") or {})}
        return config

    def part_limits(self) -> tuple[int, int, int]:
        """``(min_part, max_part, max_parts)``."""
        return self.min_part, self.max_part, self.max_parts

    def storage_options(self, user: Mapping[str, Any], *,
                        account_id: str | None = None) -> dict[str, Any]:
        """s3fs ``storage_options``: the user's, with this preset filling what they leave out
        (``endpoint_url``, ``client_kwargs["region_name"]``, the addressing style and
        checksum mode in ``config_kwargs``). A given ``endpoint_url`` is used as given; one
        that is not this provider's host draws a warning naming both, and one that matches
        its template names the region (``https://s3.eu-central-1.wasabisys.com``)."""
        if account_id is not None and "{account_id}" not in (self.endpoint or ""):
            raise ConfigurationError(f"account_id is not used by provider {self.name!r}: "
                                     "leave it out (it fills r2's endpoint)")
        options = dict(user)
        client_kwargs = dict(options.get("client_kwargs") or {})
        region = client_kwargs.get("region_name")
        endpoint = options.get("endpoint_url") or client_kwargs.get("endpoint_url")
        if endpoint:
            region = region or self._region_of(str(endpoint))
        elif self.endpoint:
            options["endpoint_url"] = self._filled(self.endpoint, region or self.region,
                                                   account_id)
        region = region or self.region
        if region:
            options["client_kwargs"] = {"region_name": region, **client_kwargs}
        options["config_kwargs"] = self._config(options.get("config_kwargs"))
        return options

    def _filled(self, template: str, region: str | None, account_id: str | None) -> str:
        if "{account_id}" in template and not account_id:
            raise ConfigurationError(
                f"{self.title}'s endpoint ({template}) names your account: pass "
                "account_id=... in storage_options, or endpoint_url (mpu: --endpoint-url)")
        return template.format(region=region, account_id=account_id)

    def _region_of(self, endpoint: str) -> str | None:
        """The region the user's ``endpoint`` names, by this provider's template; warns when
        the host is not this provider's."""
        if not self.endpoint:
            return None
        match = self._host_match(endpoint)
        if match is None:
            warnings.warn(f"endpoint_url {endpoint} is not {self.title}'s ({self.endpoint}), "
                          f"the endpoint of provider={self.name!r}: using {endpoint}; drop "
                          "one of the two if it is a mistake", UserWarning, stacklevel=2)
            return None
        return match.groupdict().get("region")

    def serves(self, endpoint: str) -> bool:
        """``endpoint``'s host is this provider's (its template filled with any region)."""
        return self._host_match(endpoint) is not None

    def _host_match(self, endpoint: str) -> re.Match[str] | None:
        """``endpoint``'s host against this provider's endpoint template (None: no template,
        or another host)."""
        if not self.endpoint:
            return None
        pattern = ""
        for literal, name, _, _ in string.Formatter().parse(urlsplit(self.endpoint).hostname
                                                             or ""):
            pattern += re.escape(literal) + (f"(?P<{name}>[a-z0-9-]+)" if name else "")
        return re.fullmatch(pattern, urlsplit(endpoint).hostname or "")


PROVIDERS: Mapping[str, Provider] = MappingProxyType(
    {record["name"]: Provider(**record) for record in PRESETS})
GENERIC = PROVIDERS["s3-compatible"]


def provider_named(name: str) -> Provider:
    """The preset called ``name`` (any case): a built-in one, else a user preset of
    :mod:`.user_presets` (written by ``mpu doctor --save``); an unknown name is refused,
    naming the closest known one and all of them."""
    key = name.strip().lower()
    found = PROVIDERS.get(key) or _user_preset(key)
    if found is not None:
        return found
    known = [*PROVIDERS, *user_presets.user_preset_names()]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ConfigurationError(f"unknown provider {name!r}: {hint}known providers: "
                             + ", ".join(known) + "; to measure your store into a preset: "
                             f"`{hints.doctor(save='NAME')}`")


def _user_preset(name: str) -> Provider | None:
    record = user_presets.read_preset(name)
    if record is None:
        return None
    tuples = {k: tuple(v) for k, v in record.items() if k in ("quirks", "sources")
              and isinstance(v, list)}
    try:
        return Provider(**{"title": name, **record, **tuples})
    except TypeError as exc:
        raise ConfigurationError(f"user preset {user_presets.preset_path(name)}: {exc}; the "
                                 "fields are Provider's (mpu_toolkit._s3.providers): fix or "
                                 "delete it") from exc


def preset_record(provider: Provider) -> dict[str, Any]:
    """``provider``'s fields as a JSON-ready record (what a user preset file holds)."""
    return {f.name: (list(v) if isinstance(v := getattr(provider, f.name), tuple)
                     else dict(v) if isinstance(v, Mapping) else v) for f in fields(provider)}


def copies_by_reference(http_headers: Mapping[str, Any]) -> bool:
    """The server shares a source's data on CopyObject instead of copying bytes (Ceph RGW,
    recognised by the ``x-rgw-object-type`` header of the HEAD a copy makes anyway)."""
    return "x-rgw-object-type" in http_headers
