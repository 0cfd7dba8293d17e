"""Writer options: one validated, immutable bundle, built from keyword arguments.

The same names work in ``mpu_toolkit.open_writer(...)``, ``fs.open(path, "wb", ...)`` and
fsspec ``storage_options``; fsspec's ``block_size`` is accepted for ``part_size``. Other
keywords must be CreateMultipartUpload parameters (``ServerSideEncryption``, ``ACL``,
``CacheControl`` ...); anything else is refused with a suggestion, before any request.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from functools import lru_cache
from typing import Any, Collection, Literal, Mapping

from typing_extensions import TypedDict

from .errors import ConfigurationError
from .model import ObjectAttributes, ObjectInfo
from ._plan.integrity import ChecksumMode, ChecksumName
from ._s3.retry import RetryPolicy
from .progress import ProgressOption, check_option
from ._plan.sizing import (S3_LIMITS, FixedPartSizer, GrowingPartSizer, MiB, PartLimits,
                           PartSizer, for_known_size, format_size, parse_size)

__all__ = ["WriteOptions", "CopyOptions", "DEFAULT_MAX_MEMORY", "WriteOptionsDict",
           "OpenWriterOptions", "CopyOptionsDict", "S3RequestParameters"]

DEFAULT_MAX_MEMORY = 128 * MiB  #: the writer's part buffers, in flight and filling



@dataclass(frozen=True)
class WriteOptions:
    """How a streaming write behaves. Every field has a default that suits S3 and compatibles.

    * ``part_size`` — first part size (bytes or ``"16MiB"``); parts grow from it for long
      streams under the ``"growing"`` policy, stay fixed under ``"equal"``.
    * ``size`` — the total, when known in advance: one part size that fits is chosen.
    * ``concurrency`` — parts uploading at once, at most.
    * ``max_memory`` — bytes of part buffers the writer may hold (parts in flight and the one
      filling): as parts grow on a long stream, fewer fly at once, so a 5 TiB stream holds
      the same bound as 1 GiB. Only a single part larger than the budget (parts reach
      192 MiB past ~190 GiB of an unknown-length stream, at the defaults) exceeds it,
      as the only buffer.
      Default 128 MiB, or two parts when ``part_size`` is larger than 64 MiB.
    * ``checksum`` — ``"auto"`` (default: the fastest mode the store is known to verify, by
      its provider preset or saved ``mpu doctor`` report, else ``"md5"``), ``"md5"``
      (Content-MD5 + ETag checks), ``"sha256-payload"`` (SigV4 signed payload),
      ``"crc32c"``, ``"crc64nvme"``, ``"crc32"``, ``"sha256"`` (``x-amz-checksum-*``),
      ``"none"``.
    * ``keep_parts_on_error`` — on failure leave the incomplete upload for resuming instead
      of aborting it (its id is logged and kept on the writer and the error).
    * ``verify`` — HEAD the object after Complete and check its size and multipart ETag.
    * ``exclusive`` — create only: if the key exists, raise ``ObjectExists`` (a
      ``FileExistsError``) and abort; never publish over it (``If-None-Match: *``, plus a
      HEAD where the store ignores that condition: see the provider presets).
    """

    part_size: int = 6 * MiB
    part_size_policy: Literal["growing", "equal"] = "growing"
    size: int | None = None
    concurrency: int = 16
    max_memory: int | None = None  # None: see memory_limit
    checksum: ChecksumMode = ChecksumMode.AUTO
    keep_parts_on_error: bool = False
    verify: bool = True
    exclusive: bool = False
    max_attempts: int = 5
    metadata: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None
    storage_class: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    progress: ProgressOption = None
    limits: PartLimits = S3_LIMITS

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "part_size", parse_size(self.part_size, "part_size"))
        if self.max_memory is not None:
            set_(self, "max_memory", parse_size(self.max_memory, "max_memory"))
        if self.size is not None:
            set_(self, "size", parse_size(self.size, "size"))
        set_(self, "checksum", ChecksumMode.parse(self.checksum))
        if self.part_size_policy not in ("growing", "equal"):
            raise ConfigurationError(f"part_size_policy={self.part_size_policy!r}: use "
                                     "'growing' (default) or 'equal'")
        if (isinstance(self.concurrency, bool) or not isinstance(self.concurrency, int)
                or not 1 <= self.concurrency <= 64):
            raise ConfigurationError(f"concurrency={self.concurrency!r} must be an integer "
                                     "from 1 to 64")
        self.limits.check_part_size(self.part_size)
        if self.max_memory is not None and self.max_memory < self.part_size:
            raise ConfigurationError(
                f"max_memory={format_size(self.max_memory)} holds less than one part "
                f"(part_size={format_size(self.part_size)}): raise max_memory, or lower "
                "part_size")
        self.sizer()  # validates size against the limits
        RetryPolicy(self.max_attempts)
        check_option(self.progress)

    def sizer(self) -> PartSizer:
        if self.size is not None:
            return for_known_size(self.size, self.part_size, self.limits)
        if self.part_size_policy == "equal":
            return FixedPartSizer(self.part_size, self.limits)
        return GrowingPartSizer(self.part_size, self.limits)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.max_attempts)

    @property
    def attributes(self) -> ObjectAttributes:
        """What the new object is given: metadata, content type, storage class, extras."""
        return ObjectAttributes(self.metadata, self.content_type, self.storage_class,
                                self.extra)

    @property
    def memory_bound(self) -> int:
        """Bytes of part buffers held at most while streaming at the first part size: whole
        parts, in flight and filling, within ``memory_limit``."""
        part = self.sizer().part_size(1)
        return part * max(1, min(self.concurrency + 1, self.memory_limit // part))

    @property
    def memory_limit(self) -> int:
        """``max_memory``, or its default: 128 MiB, or two parts when they are larger."""
        if self.max_memory is not None:
            return self.max_memory
        return max(DEFAULT_MAX_MEMORY, 2 * self.part_size)

    def concurrency_for(self, part_size: int) -> int:
        """Parts at once when each is held whole in memory: ``concurrency``, or fewer when
        ``max_memory`` cannot hold that many parts of ``part_size`` (never fewer than one)."""
        return max(1, min(self.concurrency, self.memory_limit // part_size))

    def updated(self, **kwargs: Any) -> "WriteOptions":
        """A copy with ``kwargs`` applied (same rules as :meth:`from_kwargs`)."""
        return WriteOptions.from_kwargs(base=self, **kwargs)

    @classmethod
    def from_kwargs(cls, base: "WriteOptions | None" = None, **kwargs: Any) -> "WriteOptions":
        """Options from loose keywords; S3 request parameters go to ``extra``."""
        for name in ("block_size", "blocksize"):  # fsspec's and s3fs's names
            block = kwargs.pop(name, None)
            if block is not None:
                kwargs.setdefault("part_size", block)
        if kwargs.get("acl"):
            kwargs.setdefault("ACL", kwargs.pop("acl"))
        kwargs.pop("acl", None)
        own = {f.name for f in fields(cls)}
        extra = dict((base.extra if base else {}))
        for name in [k for k in kwargs if k not in own]:
            if name not in _create_parameters():
                raise ConfigurationError(_unknown_option_message(name, own))
            extra[name] = kwargs.pop(name)
        if extra:
            kwargs["extra"] = extra
        return replace(base, **kwargs) if base else cls(**kwargs)


# -- the same options as typed keywords: what IDEs, mypy and Jupyter's signature help show ----

#: CreateMultipartUpload's request parameters (botocore's S3 model minus Bucket and Key), given
#: to the new object as they are; tests/test_options.py keeps this list in sync with botocore
S3RequestParameters = TypedDict("S3RequestParameters", {
    "ACL": str, "CacheControl": str, "ContentDisposition": str, "ContentEncoding": str,
    "ContentLanguage": str, "ContentType": str, "Expires": datetime | str,
    "GrantFullControl": str, "GrantRead": str, "GrantReadACP": str, "GrantWriteACP": str,
    "Metadata": Mapping[str, str], "ServerSideEncryption": str, "StorageClass": str,
    "WebsiteRedirectLocation": str, "SSECustomerAlgorithm": str, "SSECustomerKey": str,
    "SSECustomerKeyMD5": str, "SSEKMSKeyId": str, "SSEKMSEncryptionContext": str,
    "BucketKeyEnabled": bool, "RequestPayer": str, "Tagging": str, "ObjectLockMode": str,
    "ObjectLockRetainUntilDate": datetime | str, "ObjectLockLegalHoldStatus": str,
    "ObjectLockEventHold": str, "ObjectLockEventHoldDurationDays": int,
    "ObjectLockEventHoldDurationYears": int, "ExpectedBucketOwner": str,
    "ChecksumAlgorithm": str, "ChecksumType": str}, total=False)


class WriterKeywords(S3RequestParameters, total=False):
    """The writer options of every write but those a function names itself (``part_size``,
    ``metadata``, ``content_type``, ``progress``); see :class:`WriteOptions`."""

    part_size_policy: Literal["growing", "equal"]
    size: int | str | None
    concurrency: int
    max_memory: int | str | None
    checksum: ChecksumMode | ChecksumName | bool | None
    keep_parts_on_error: bool
    verify: bool
    exclusive: bool
    max_attempts: int
    storage_class: str | None
    block_size: int | str  #: fsspec's name for ``part_size``


class AttributeKeywords(TypedDict, total=False):
    metadata: Mapping[str, str]
    content_type: str | None


class PartSizeKeywords(TypedDict, total=False):
    part_size: int | str


class ProgressKeywords(TypedDict, total=False):
    progress: ProgressOption


class WriteOptionsDict(WriterKeywords, AttributeKeywords, PartSizeKeywords, ProgressKeywords,
                       total=False):
    """Every writer option as a keyword: ``**options: Unpack[WriteOptionsDict]``."""


class OpenWriterOptions(WriteOptionsDict, total=False):
    """``open_writer``'s keywords: the writer options, and ``append`` (the new bytes follow
    the existing object's, in one upload that replaces it whole)."""

    append: bool


class CopyKeywords(WriterKeywords, ProgressKeywords, total=False):
    """The writer options of ``copy`` and ``compose``, which name ``part_size``,
    ``metadata`` and ``content_type`` themselves (see :class:`CopyOptions`)."""


class CopyOptionsDict(CopyKeywords, total=False):
    """Every option of a copy or compose as a keyword (``MPUFileSystem.compose``)."""

    part_size: int | str | None
    copy_cutoff: int | str
    metadata: Mapping[str, str] | None
    content_type: str | None


@lru_cache(maxsize=1)
def _create_parameters() -> frozenset[str]:
    """CreateMultipartUpload's request parameters, from botocore's S3 service model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("s3")
    members = model.operation_model("CreateMultipartUpload").input_shape.members
    return frozenset(members) - {"Bucket", "Key"}


def _unknown_option_message(name: str, own: set[str]) -> str:
    close = closest(name, own | _create_parameters())
    hint = f": did you mean {close!r}?" if close else (
        ": writer options are " + ", ".join(sorted(own - {"limits", "extra"})))
    return f"unknown write option {name!r}{hint}"


#: names people reach for, and the option they mean (suggested only where it exists)
_ALIASES = {"separator": "sep", "seperator": "sep", "delimiter": "sep", "delim": "sep",
            "blocksize": "block_size", "partsize": "part_size", "chunksize": "part_size",
            "chunk_size": "part_size", "threads": "concurrency",
            "max_concurrency": "concurrency", "retries": "max_attempts",
            "attempts": "max_attempts", "compress": "compression", "codec": "compression",
            "access_key": "key", "aws_access_key_id": "key", "secret_key": "secret",
            "aws_secret_access_key": "secret", "endpoint": "endpoint_url",
            "session_token": "token", "aws_session_token": "token"}


def closest(name: str, names: Collection[str]) -> str | None:
    """The option ``name`` was probably meant to be, if one is close enough to say so."""
    alias = _ALIASES.get(name.lower())
    if alias in names:
        return alias
    folded = {n.lower(): n for n in names}
    if name.lower() in folded:  # only the case differs
        return folded[name.lower()]
    close = difflib.get_close_matches(name.lower(), sorted(folded), n=1, cutoff=0.75)
    return folded[close[0]] if close else None


COPY_PART_SIZE = 64 * MiB  #: copy parts move no bytes through the client: fewer, larger


@dataclass(frozen=True)
class CopyOptions:
    """How a copy or compose runs, and what the new object keeps.

    * ``write`` — the writer options it runs with (``concurrency``, ``storage_class``,
      ``max_attempts``, ``progress``, ``checksum`` for the pieces uploaded ...).
    * ``part_size`` — copy part size (64 MiB: copies move no bytes through the client).
    * ``copy_cutoff`` — the largest object copied with one CopyObject; ``"auto"``: 5 GiB where
      the server shares data on copy (Ceph RGW: no bytes move), else one part, as aws-cli.
    * ``metadata`` / ``content_type`` — ``None`` keeps the source's (a copy) or sets none /
      the first source's content type (a compose); a value replaces them.
    """

    write: WriteOptions = WriteOptions()
    part_size: int = COPY_PART_SIZE
    copy_cutoff: int | Literal["auto"] = "auto"
    metadata: Mapping[str, str] | None = None
    content_type: str | None = None

    @classmethod
    def from_kwargs(cls, base: WriteOptions, *, part_size: int | str | None = None,
                    copy_cutoff: int | str = "auto", metadata: Mapping[str, str] | None = None,
                    content_type: str | None = None, **options: Any) -> "CopyOptions":
        """From keywords: these, and writer options over ``base`` (a filesystem's)."""
        cutoff: int | Literal["auto"] = "auto"
        if copy_cutoff != "auto":
            cutoff = parse_size(copy_cutoff, "copy_cutoff")
            if not 0 <= cutoff <= base.limits.max_part:
                raise ConfigurationError(f"copy_cutoff={copy_cutoff!r}: CopyObject takes at "
                                         "most 5 GiB; choose 0..5GiB or 'auto'")
        size = COPY_PART_SIZE if part_size is None else parse_size(part_size, "part_size")
        write = base.updated(**options) if options else base
        return cls(write, write.limits.check_part_size(size), cutoff,
                   dict(metadata) if metadata is not None else None, content_type)

    @property
    def keeps_attributes(self) -> bool:
        """Nothing of the source's is replaced (a copy then uses the COPY directive)."""
        return self.metadata is None and self.content_type is None

    def single_request_max(self, source: ObjectInfo) -> int:
        """The largest source copied in one CopyObject."""
        if self.copy_cutoff != "auto":
            return self.copy_cutoff
        return self.write.limits.max_part if source.copies_by_reference else self.part_size

    def attributes(self, first: ObjectInfo, *, copy: bool) -> ObjectAttributes:
        """The new object's: a copy keeps ``first``'s metadata and headers unless replaced;
        a compose sets the given metadata (or none) and ``first``'s content type."""
        metadata = self.metadata if self.metadata is not None else (
            first.metadata if copy else {})
        headers = dict(first.headers) if copy else {}
        return ObjectAttributes(dict(metadata), self.content_type or first.content_type,
                                self.write.storage_class, {**headers, **self.write.extra})
