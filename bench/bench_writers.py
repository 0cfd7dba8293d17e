"""The writers under test: each streams the producer's 1 MiB chunks into one S3 object.

``prepare(spec)`` builds the client (not timed); ``run(state, spec, producer)`` is the
measured open -> write... -> close and returns what the writer used (part size,
concurrency, checksum setting); ``finish(state)`` releases what needs it.

Peers get their default part size and concurrency (what users get); their flexible
checksums are turned off where there is a knob, for a like-for-like comparison with
``mpu-nochecksum``. Payload signing is left at each client's default (see NOTES).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import bench_loopback  # the standard library only, like this module

MiB = 1024 * 1024

# botocore >= 1.36 adds CRC32 (trailer) checksums by default; "when_required" turns them off.
BOTO_CHECKSUMS_OFF = {"request_checksum_calculation": "when_required",
                      "response_checksum_validation": "when_required"}

#: mpu_toolkit's integrity modes (``checksum=``) and what each sends; see docs/integrity.md
MPU_MODES = {
    "md5": "Content-MD5 per part (hashlib), ETag checked, multipart ETag checked after Complete",
    "sha256-payload": "SigV4 signed payload hash x-amz-content-sha256 (hashlib SHA-256)",
    "crc32c": "x-amz-checksum-crc32c per part (awscrt, hardware CRC), echo checked",
    "crc64nvme": "x-amz-checksum-crc64nvme per part (awscrt, hardware CRC), echo checked",
    "crc32": "x-amz-checksum-crc32 per part (zlib), echo checked",
    "sha256": "x-amz-checksum-sha256 per part (hashlib), echo checked",
}
#: the integrity writers stream_bench runs by default (the others are integrity_bench's)
DEFAULT_MODES = ("crc32c", "crc64nvme", "sha256-payload")

NOTES = {
    "mpu": "checksum='auto' (the default): the store's verified mode from its provider "
           "preset; no provider= here, an unknown store, so md5: " + MPU_MODES["md5"]
           + "; HEAD after Complete; payload signing off (needs real MD5 ETags: --sink md5)",
    "mpu-nochecksum": "checksum='none' (HEAD after Complete still on); payload signing off",
    **{f"mpu-{mode}": f"checksum={mode!r}: {text}; HEAD after Complete"
       for mode, text in MPU_MODES.items()},
    "mpu-crc32c-botocore": "as mpu-crc32c, with MPU_TOOLKIT_PART_PATH=botocore: parts through "
                           "botocore's request pipeline and aiohttp (https endpoints, proxies)",
    "s3fs": "config_kwargs request_checksum_calculation=when_required; botocore default "
            "payload signing (SHA-256 of each part over http)",
    "smart_open": "boto3 client Config(request_checksum_calculation=when_required); "
                  "botocore default payload signing (SHA-256 over http)",
    "boto3": "upload_fileobj(non-seekable stream), default TransferConfig; "
             "Config(request_checksum_calculation=when_required); botocore payload signing",
    "pyarrow": "env AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED (AWS C++ SDK; pyarrow 26 "
               "has no Python knob); background_writes=True (default); SDK default signing",
    "obstore": "no checksum_algorithm (default); unsigned_payload=False (default: SHA-256 "
               "payload signing)",
    "obstore-unsigned": "as obstore, with unsigned_payload=True (no payload hashing at all)",
    "tcp-loopback": "the physical limit: plain HTTP PUTs of 8 MiB parts (the same 1 MiB "
                    "chunks, socket.sendall) on 8 kept-alive connections; no signing, no "
                    "digest, no retry (servers that check no signature: the sink, moto)",
}


@dataclass(frozen=True)
class Writer:
    prepare: Callable[[dict[str, Any]], Any]
    run: Callable[[Any, dict[str, Any], Any], dict[str, Any]]
    finish: Callable[[Any], None] = lambda state: None


def _storage_options(spec: dict[str, Any]) -> dict[str, Any]:
    return {"endpoint_url": spec["endpoint"], "key": spec["key"], "secret": spec["secret"]}


def _boto3_client(spec: dict[str, Any]) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=spec["endpoint"], aws_access_key_id=spec["key"],
                        aws_secret_access_key=spec["secret"], region_name=spec["region"],
                        config=Config(**BOTO_CHECKSUMS_OFF))


# -- mpu_toolkit ------------------------------------------------------------------------------
def _mpu_prepare(checksum: str, botocore_parts: bool = False
                 ) -> Callable[[dict[str, Any]], Any]:
    def prepare(spec: dict[str, Any]) -> Any:
        from mpu_toolkit import MPUFileSystem
        from mpu_toolkit._s3.part_path import ENVIRONMENT_SWITCH

        if botocore_parts:  # this writer's own process: the switch affects nothing else
            os.environ[ENVIRONMENT_SWITCH] = "botocore"

        fs = MPUFileSystem(**_storage_options(spec))  # what open_writer() builds
        fs.connect()  # create the aiobotocore client now, outside the timed window
        assert MPUFileSystem(**_storage_options(spec)) is fs, "fsspec instance cache missed"
        return fs, checksum

    return prepare


def _mpu_run(state: Any, spec: dict[str, Any], producer: Any) -> dict[str, Any]:
    import mpu_toolkit
    from mpu_toolkit._plan.integrity import ChecksumMode

    fs, checksum = state
    # the public entry point; MPUFileSystem instances are cached by fsspec, so this reuses
    # the client that prepare() built (its construction stays outside the timed window)
    with mpu_toolkit.open_writer(f"mpu://{spec['bucket']}/{spec['object_key']}",
                                 storage_options=_storage_options(spec),
                                 checksum=checksum) as f:
        for chunk in producer.chunks():
            f.write(chunk)
    opts = fs.write_options
    sizes = [p.size for p in f.parts]
    return {"part_size": max(sizes[:-1] or sizes or [0]), "first_part_size": opts.part_size,
            "part_policy": opts.part_size_policy, "concurrency": opts.concurrency,
            "max_memory": opts.memory_limit, "parts": len(sizes),
            # what the upload ran with: 'auto' as the store's preset resolves it
            "checksum": ChecksumMode.parse(checksum).for_store(fs.provider.checksum).value}


# -- s3fs --------------------------------------------------------------------------------------
def _s3fs_prepare(spec: dict[str, Any]) -> Any:
    import s3fs

    fs = s3fs.S3FileSystem(**_storage_options(spec), config_kwargs=dict(BOTO_CHECKSUMS_OFF))
    fs.connect()  # create the aiobotocore client now, outside the timed window
    return fs


def _s3fs_run(fs: Any, spec: dict[str, Any], producer: Any) -> dict[str, Any]:
    with fs.open(f"{spec['bucket']}/{spec['object_key']}", "wb") as f:
        for chunk in producer.chunks():
            f.write(chunk)
        block = f.blocksize
    return {"part_size": block, "concurrency": 1, "checksum": "off (when_required)"}


# -- smart_open --------------------------------------------------------------------------------
def _smart_open_run(client: Any, spec: dict[str, Any], producer: Any) -> dict[str, Any]:
    import smart_open
    import smart_open.s3

    with smart_open.open(f"s3://{spec['bucket']}/{spec['object_key']}", "wb",
                         transport_params={"client": client}) as f:
        for chunk in producer.chunks():
            f.write(chunk)
    return {"part_size": smart_open.s3.DEFAULT_PART_SIZE, "concurrency": 1,
            "checksum": "off (when_required)"}


# -- boto3 upload_fileobj ------------------------------------------------------------------------
def _boto3_run(client: Any, spec: dict[str, Any], producer: Any) -> dict[str, Any]:
    from boto3.s3.transfer import TransferConfig
    from bench_producer import ProducerStream

    config = TransferConfig()  # the default upload_fileobj uses
    client.upload_fileobj(ProducerStream(producer), spec["bucket"], spec["object_key"],
                          Config=config)
    return {"part_size": config.multipart_chunksize, "concurrency": config.max_concurrency,
            "checksum": "off (when_required)"}


# -- pyarrow -----------------------------------------------------------------------------------
def _pyarrow_prepare(spec: dict[str, Any]) -> Any:
    # The AWS C++ SDK inside pyarrow reads these; without them pyarrow 26 sends CRC64NVME
    # aws-chunked trailers (RGW 16 answers 411 MissingContentLength).
    os.environ.setdefault("AWS_REQUEST_CHECKSUM_CALCULATION", "WHEN_REQUIRED")
    os.environ.setdefault("AWS_RESPONSE_CHECKSUM_VALIDATION", "WHEN_REQUIRED")
    import pyarrow.fs as pafs

    host = spec["endpoint"].split("://", 1)[1].rstrip("/")
    scheme = spec["endpoint"].split("://", 1)[0]
    return pafs.S3FileSystem(access_key=spec["key"], secret_key=spec["secret"],
                             endpoint_override=host, scheme=scheme, region=spec["region"])


def _pyarrow_run(fs: Any, spec: dict[str, Any], producer: Any) -> dict[str, Any]:
    with fs.open_output_stream(f"{spec['bucket']}/{spec['object_key']}") as f:
        for chunk in producer.chunks():
            f.write(chunk)
    return {"part_size": 10 * MiB, "concurrency": "IO pool (no backpressure)",
            "checksum": "off (env " + os.environ.get("AWS_REQUEST_CHECKSUM_CALCULATION", "?")
            + ")"}


# -- obstore -----------------------------------------------------------------------------------
def _obstore_prepare(unsigned: bool) -> Callable[[dict[str, Any]], Any]:
    def prepare(spec: dict[str, Any]) -> Any:
        from obstore.store import S3Store

        return S3Store(spec["bucket"], endpoint=spec["endpoint"], access_key_id=spec["key"],
                       secret_access_key=spec["secret"], client_options={"allow_http": True},
                       region=spec["region"], virtual_hosted_style_request=False,
                       unsigned_payload=unsigned)

    return prepare


def _obstore_run(store: Any, spec: dict[str, Any], producer: Any) -> dict[str, Any]:
    import obstore

    with obstore.open_writer(store, spec["object_key"]) as f:
        for chunk in producer.chunks():
            f.write(chunk)
    return {"part_size": 10 * MiB, "concurrency": 12, "checksum": "none (default)"}


WRITERS: dict[str, Writer] = {
    "mpu": Writer(_mpu_prepare("auto"), _mpu_run),
    "mpu-nochecksum": Writer(_mpu_prepare("none"), _mpu_run),
    **{f"mpu-{mode}": Writer(_mpu_prepare(mode), _mpu_run) for mode in MPU_MODES},
    # the same, with parts through botocore's pipeline and aiohttp (before the part path)
    "mpu-crc32c-botocore": Writer(_mpu_prepare("crc32c", botocore_parts=True), _mpu_run),
    "s3fs": Writer(_s3fs_prepare, _s3fs_run),
    "smart_open": Writer(_boto3_client, _smart_open_run),
    "boto3": Writer(_boto3_client, _boto3_run),
    "pyarrow": Writer(_pyarrow_prepare, _pyarrow_run),
    "obstore": Writer(_obstore_prepare(False), _obstore_run),
    # the fastest peer at its fastest: no payload SHA-256, like mpu
    "obstore-unsigned": Writer(_obstore_prepare(True), _obstore_run),
    # the cheapest way bytes reach the server from Python
    "tcp-loopback": Writer(bench_loopback.prepare, bench_loopback.run, bench_loopback.finish),
}
#: what stream_bench runs without --writers (tcp-loopback only into the sink)
DEFAULT_WRITERS = [w for w in WRITERS if not w.startswith("mpu-")
                   or w.removeprefix("mpu-") in (*DEFAULT_MODES, "nochecksum")]
