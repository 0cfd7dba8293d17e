"""``mpu://``: s3fs for everything, except that ``open(path, "wb")`` streams a multipart upload.

Reading, listing and ``storage_options`` are s3fs's (this is a subclass of
``s3fs.S3FileSystem``); writing returns a :class:`~mpu_toolkit.MultipartWriter`, and copies,
composes and file uploads go through mpu_toolkit's engine. Registered with fsspec through the
``fsspec.specs`` entry point, so ``"mpu://bucket/key"`` works in pandas, pyarrow and Dask
without importing mpu_toolkit.

What changes for s3fs's own operations:

* every request, reads and listings included, is retried by mpu_toolkit's policy
  (``max_attempts``; see :mod:`mpu_toolkit._s3.retry`), with the client defaults of the
  ``provider`` preset (:mod:`mpu_toolkit._s3.providers`; the options given override them);
* a blocking call stops its work when interrupted (Ctrl-C, Jupyter's "Interrupt kernel")
  instead of letting it run on in the background;
* no bucket is ever created implicitly: ``makedirs`` (which fsspec, pandas and Dask call
  before a write) only checks that the bucket exists; ``fs.mkdir("bucket")`` creates one.
"""

from __future__ import annotations

import inspect
import mimetypes
import os
from dataclasses import fields
from typing import Any, Mapping, NoReturn, Sequence

from fsspec.callbacks import DEFAULT_CALLBACK, Callback
from aiobotocore.session import AioSession
from s3fs import S3FileSystem
from s3fs.utils import FileExpired
from typing_extensions import Unpack

from ._engine.blocking import make_interruptible, run_blocking
from ._engine.fileupload import FileUploadResult, upload_bytes, upload_local_file
from ._engine.servercopy import CopyResult, ServerCopy
from ._engine.upload import S3Upload
from ._s3 import redact, retry, roundtrips, signing
from ._s3.client import S3Client
from ._s3.errormap import map_error, missing_bucket, missing_path, precondition_failed
from ._s3.providers import GENERIC, provider_named
from .errors import ConfigurationError, InvalidName, MPUError
from .model import SCHEMES, ObjectRef
from ._plan.sizing import S3_LIMITS, PartLimits, parse_size
from .options import (DEFAULT_MAX_MEMORY, CopyOptions, CopyOptionsDict, OpenWriterOptions,
                      WriteOptions, WriteOptionsDict, closest)
from .progress import feeding_callback
from ._engine.writefile import MPUWriteFile

__all__ = ["MPUFileSystem", "filesystem"]

_WRITE_OPTION_NAMES = frozenset(f.name for f in fields(WriteOptions)) - {"size", "limits"}
_WRITE_MODES: dict[str, dict[str, bool]] = {"wb": {}, "xb": {"exclusive": True},
                                             "ab": {"append": True}}
#: the read-ahead a ``block_size`` storage option may ask for, at most (the writer's default
#: memory budget): a write's part size is not a sane read buffer past that
MAX_READ_BLOCK = DEFAULT_MAX_MEMORY
_READ_ONLY_OPEN_ARGS = ("cache_type", "fill_cache", "cache_options", "requester_pays")
#: what s3fs takes (its own arguments, fsspec's listing cache, aiobotocore's session)
_S3FS_OPTIONS = (frozenset(inspect.signature(S3FileSystem.__init__).parameters)
                 | frozenset(inspect.signature(AioSession.__init__).parameters)
                 | {"use_listings_cache", "listings_expiry_time", "max_paths", "batch_size"}
                 ) - {"self", "kwargs"}


def _check_storage_options(options: Mapping[str, Any]) -> None:
    """Refuse a misspelled option before anything is built, naming the closest real one."""
    endpoint = options.get("endpoint_url") or (options.get("client_kwargs") or {}).get(
        "endpoint_url")
    if endpoint and not str(endpoint).startswith(("http://", "https://")):
        raise ConfigurationError(f"endpoint_url {endpoint!r} needs a scheme: "
                                 f"'http://{endpoint}' (or https://, as the server serves)")
    known = _S3FS_OPTIONS | _WRITE_OPTION_NAMES | {"block_size", "provider", "account_id"}
    for name in options:
        if name in known:
            continue
        if name in ("region", "region_name"):
            hint = "pass client_kwargs={'region_name': ...}"
        else:
            close = closest(name, known)
            hint = (f"did you mean {close!r}?" if close else "mpu:// takes s3fs's options "
                    "(endpoint_url, key, secret, client_kwargs, config_kwargs ...) and the "
                    "writer options (part_size, concurrency, checksum, max_attempts ...)")
        raise ConfigurationError(f"unknown storage option {name!r}: {hint}")


class MPUFileSystem(S3FileSystem):
    """s3fs with a streaming, concurrent, never-partial multipart writer.

    Takes every s3fs argument (``endpoint_url``, ``key``, ``secret``, ``client_kwargs``,
    ``config_kwargs`` ...) plus the writer options of :class:`~mpu_toolkit.WriteOptions`
    (``part_size``, ``concurrency``, ``checksum``, ``max_attempts`` ...), which become the
    defaults of every ``open(..., "wb")`` and the retry policy of every request.

    ``provider`` (default ``$MPU_PROVIDER``, else generic S3) names a store's preset, e.g.
    ``"yandex"``: it fills the endpoint, region, addressing style, checksum mode and part
    rules that the other options leave out (``account_id`` fills R2's endpoint); the preset
    is ``fs.provider``.

    fsspec's ``block_size`` (``fsspec.open(url, "wb", block_size=B)`` passes it here) is the
    part size of every write, as in ``fs.open(path, "wb", block_size=B)``: outside the part
    limits each write refuses it (``part_size``, if given too, wins). Reads read ahead ``B``
    bytes but at most ``MAX_READ_BLOCK`` (128 MiB; ``0``: s3fs's default).
    """

    protocol = ("mpu", "s3", "s3a")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _check_storage_options(kwargs)
        name = kwargs.pop("provider", None) or os.environ.get("MPU_PROVIDER")
        self.provider = provider_named(name) if name else GENERIC
        account_id = kwargs.pop("account_id", None)
        kwargs = self.provider.storage_options(kwargs, account_id=account_id)
        options = {k: kwargs.pop(k) for k in list(kwargs) if k in _WRITE_OPTION_NAMES}
        limits = PartLimits(*self.provider.part_limits())
        if limits != S3_LIMITS:
            options["limits"] = limits
        if self.provider.equal_parts:
            options.setdefault("part_size_policy", "equal")
        block = kwargs.pop("block_size", None)  # fsspec's name: see the class docstring
        self._refused_block: dict[str, int] = {}  # a block_size the part limits refuse
        if block is not None:
            block = parse_size(block, "block_size")
            kwargs.setdefault("default_block_size", min(max(block, 0), MAX_READ_BLOCK) or None)
            if limits.min_part <= block <= limits.max_part:
                options.setdefault("part_size", block)
            elif "part_size" not in options:  # refused by every write, as fs.open(...) does
                self._refused_block = {"block_size": block}
        self.write_options = WriteOptions.from_kwargs(**options)
        config = self.provider.config_kwargs(kwargs.pop("config_kwargs", None),
                                             connections=self.write_options.concurrency + 4)
        super().__init__(*args, config_kwargs=config, **kwargs)
        redact.remember(self.key, self.secret, self.token, *(self.client_kwargs.get(name) for name
                        in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")))
        self._client = S3Client(self)

    # -- the wire: one retry policy under s3fs's requests too ---------------------------------
    async def set_session(self, *args: Any, **kwargs: Any) -> Any:
        return self._wired(await super().set_session(*args, **kwargs))

    async def get_s3(self, bucket: str | None = None) -> Any:
        return self._wired(await super().get_s3(bucket))

    def _wired(self, client: Any) -> Any:
        """``client`` with mpu_toolkit's retries, round trips and payload signer (once per
        client: this runs before every request)."""
        if getattr(client, "_mpu_wired", False):
            return client
        retry.install(client, self.write_options.retry_policy())
        roundtrips.install(client)
        signing.install(client)
        client._mpu_wired = True
        return client

    async def _call_s3(self, method: str, *akwarglist: Any, **kwargs: Any) -> Any:
        """s3fs's request path: retried by mpu_toolkit's policy underneath (not again by
        s3fs's loop on top of it), and failing with :mod:`mpu_toolkit.errors`, which name the
        request and say what to do (they are the built-in errors s3fs raises, too:
        ``FileNotFoundError``, ``PermissionError``, ``OSError``)."""
        await self.set_session()
        client = await self.get_s3(kwargs.get("Bucket"))
        call = getattr(client, method)
        params = self._get_s3_method_kwargs(call, *akwarglist, **kwargs)
        try:
            return await call(**params)
        except Exception as exc:
            if method == "get_object" and "IfMatch" in params and precondition_failed(exc):
                # s3fs's reader promises FileExpired when the object changed under it
                raise FileExpired(f"{params['Bucket']}/{params['Key']}",
                                  params["IfMatch"]) from exc
            raise map_error(exc, operation=client.meta.method_to_api_mapping.get(method, method),
                            bucket=str(kwargs.get("Bucket", "")), key=str(kwargs.get("Key", "")),
                            endpoint=self._client.endpoint) from exc

    async def _info(self, path: str, *args: Any, **kwargs: Any) -> Any:
        """s3fs's ``info`` (and ``ls``); a path that is not there says so with its URL, the
        endpoint and the ``mpu ls`` that shows what is, where s3fs raises a bare
        ``FileNotFoundError(path)`` (a NoSuchKey is one still)."""
        try:
            return await super()._info(path, *args, **kwargs)
        except FileNotFoundError as exc:
            self._missing(path, exc)

    async def _ls(self, path: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super()._ls(path, *args, **kwargs)
        except FileNotFoundError as exc:
            self._missing(path, exc)

    def _missing(self, path: str, exc: FileNotFoundError) -> NoReturn:
        if isinstance(exc, MPUError) or not self.split_path(path)[1]:
            raise exc  # already ours, or no key to name (a bucket is looked up by HEAD)
        ref = self.object_ref(path)
        raise missing_path(ref.bucket, ref.key, self._client.endpoint, ref.scheme) from exc

    # -- writing --------------------------------------------------------------------------------
    def object_ref(self, path: str, write: bool = False) -> ObjectRef:
        """``path`` (``mpu://``, ``s3://`` or ``bucket/key[?versionId=]``) as an object."""
        bucket, key, version = self.split_path(path)
        if not key or (write and version):
            raise ConfigurationError(f"{path!r} is not an object: give 'bucket/key'"
                                     + (" without a version id" if write else ""))
        if len(key.encode("utf-8")) > 1024:
            raise InvalidName(f"the key of {path[:60]!r}... is {len(key.encode()):,} bytes; S3 "
                              "keys are at most 1,024 bytes of UTF-8: shorten it")
        scheme = path.partition("://")[0].lower() if "://" in path else "mpu"
        return ObjectRef(bucket, key, version, scheme if scheme in SCHEMES else "mpu")

    def multipart_upload(self, target: str | ObjectRef,
                         **options: Unpack[WriteOptionsDict]) -> S3Upload:
        """The one way into the engine for an upload of ``target``: ``options`` resolved
        once over the filesystem's writer options (``storage_options``), on this
        filesystem's client. Nothing is sent yet: the upload starts with its first part
        (or :meth:`S3Upload.start`), or continues one (:meth:`S3Upload.attach`)."""
        ref = target if isinstance(target, ObjectRef) else self.object_ref(target, write=True)
        return S3Upload(self._client, self.loop, ref, self._options_for(**options))

    def _options_for(self, **options: Any) -> WriteOptions:
        """``options`` over the filesystem's writer options, validated."""
        if not (options or self._refused_block):
            return self.write_options
        return self.write_options.updated(**{**self._refused_block, **options})

    def open_writer(self, path: str, *, autocommit: bool = True,
                    **options: Unpack[OpenWriterOptions]) -> MPUWriteFile:
        """A streaming writer for ``path`` with these options over the filesystem's defaults.

        ``exclusive=True``: fail with ObjectExists (a ``FileExistsError``) if the key is
        taken, now or when publishing; ``append=True``: the new bytes follow the existing
        object's (see :meth:`_open` mode ``"ab"``)."""
        ref = self.object_ref(path, write=True)
        given: dict[str, Any] = dict(options)
        existing = (run_blocking(self.loop, self._client.head_if_exists(ref))
                    if given.pop("append", False) else None)
        if existing is not None:
            given = {**existing.kept_attributes(given), **given}
        return MPUWriteFile.open(self.multipart_upload(ref, **given), append_to=existing,
                                 autocommit=autocommit, fs=self, on_commit=lambda _: (
                                     self.invalidate_cache(f"{ref.bucket}/{ref.key}")))

    def open(self, path: Any, mode: str = "rb", **kwargs: Any) -> Any:
        """fsspec's ``open``; a writer keeps the scheme of the URL (``s3://`` given to
        ``mpu://``'s filesystem is echoed as ``s3://``), which fsspec strips."""
        if isinstance(path, str) and "://" in path and "r" not in mode:
            kwargs["url_scheme"] = path.partition("://")[0].lower()
        return super().open(path, mode, **kwargs)

    def _open(self, path: str, mode: str = "rb", block_size: Any = None,
              autocommit: bool = True, **kwargs: Any) -> Any:
        """Reading is s3fs's. Writing streams a multipart upload: ``"wb"`` replaces the
        object, ``"xb"`` creates it only if the key is free (else ``FileExistsError``),
        ``"ab"`` appends: one upload whose first parts are server-side copies of the object
        (pinned to its ETag), then the new bytes; published only whole."""
        scheme = kwargs.pop("url_scheme", None)
        if "r" in mode and "+" not in mode:
            return super()._open(path, mode, block_size=block_size, autocommit=autocommit,
                                 **kwargs)
        if scheme in SCHEMES:
            path = f"{scheme}://{path}"
        if mode not in _WRITE_MODES:
            raise ConfigurationError(
                f"mode {mode!r} is not supported for {path!r}: use 'rb' to read, 'wb' to "
                "write, 'xb' to create only if absent, 'ab' to append")
        if kwargs.pop("version_id", None):
            raise ConfigurationError("version_id is for reading; a write creates a new version")
        for name in _READ_ONLY_OPEN_ARGS:
            kwargs.pop(name, None)
        if block_size is not None:
            kwargs.setdefault("part_size", block_size)
        kwargs.update(_WRITE_MODES[mode])
        return self.open_writer(path, autocommit=autocommit, **kwargs)

    # -- buckets: created only when asked for -------------------------------------------------
    async def _mkdir(self, path: str, acl: Any = False, create_parents: bool = True,
                     **kwargs: Any) -> None:
        """``mkdir("bucket")`` creates the bucket; a "directory" inside a bucket (S3 has
        none) needs the bucket to exist: it is never created as a side effect."""
        bucket, key, _ = self.split_path(path)
        if key:
            await self._require_bucket(bucket)
            return
        await super()._mkdir(path, acl=acl, create_parents=create_parents, **kwargs)

    async def _makedirs(self, path: str, exist_ok: bool = False) -> None:
        """Checks that the bucket exists (fsspec, pandas and Dask call this before writing):
        a misspelled bucket must fail, not appear in the account. ``mkdir`` creates buckets."""
        bucket, key, _ = self.split_path(path)
        await self._require_bucket(bucket)
        if not key and not exist_ok:
            raise FileExistsError(path)

    async def _require_bucket(self, bucket: str) -> None:
        if not await self._exists(bucket):
            raise missing_bucket(bucket, self._client.endpoint)

    # -- server-side copy and compose --------------------------------------------------------
    async def _cp_file(self, path1: str, path2: str, preserve_etag: bool | None = None,
                       **kwargs: Any) -> CopyResult:
        """Copy on the server: CopyObject, or concurrent UploadPartCopy for large objects
        (see :class:`~mpu_toolkit.options.CopyOptions` for ``copy_cutoff``, ``part_size``,
        ``metadata``, ``content_type``)."""
        if preserve_etag:  # s3fs's part-for-part copy reproduces the source's ETag
            return await super()._cp_file(path1, path2, preserve_etag=True, **kwargs)
        copier = ServerCopy(self._client, self.loop,
                            CopyOptions.from_kwargs(self.write_options, **kwargs))
        result = await copier.copy(self.object_ref(path1), self.object_ref(path2, write=True))
        self.invalidate_cache(path2)
        return result

    async def _compose(self, paths: Sequence[str], path: str, **kwargs: Any) -> CopyResult:
        copier = ServerCopy(self._client, self.loop,
                            CopyOptions.from_kwargs(self.write_options, **kwargs))
        result = await copier.compose([self.object_ref(p) for p in paths],
                                      self.object_ref(path, write=True))
        self.invalidate_cache(path)
        return result

    def compose(self, paths: Sequence[str], path: str,
                **kwargs: Unpack[CopyOptionsDict]) -> CopyResult:
        """Concatenate objects ``paths`` (in order) into ``path`` on the server; only the
        pieces under 5 MiB that cannot be parts of their own go through this client."""
        return run_blocking(self.loop, self._compose(list(paths), path, **kwargs))

    async def _pipe_file(self, path: str, data: Any, chunksize: int | None = None,
                         max_concurrency: int | None = None, mode: str = "overwrite",
                         **kwargs: Any) -> dict[str, Any]:
        """Store ``data`` (bytes) at ``path``: one verified PUT, or concurrent verified parts
        of a multipart upload; ``mode="create"`` writes only if the key is free. Returns
        s3fs's answer fields (``ETag``, ``VersionId``)."""
        if mode == "create":
            kwargs["exclusive"] = True
        view = memoryview(data).cast("B")
        opts = self._options_for(
            size=len(view), **({"part_size": chunksize} if chunksize else {}),
            **({"concurrency": max_concurrency} if max_concurrency else {}), **kwargs)
        try:
            info = await upload_bytes(self._client, self.loop, view,
                                      self.object_ref(path, write=True), opts)
            return {"ETag": info.etag, "VersionId": info.version_id, "size": info.size}
        finally:
            self.invalidate_cache(path)

    # -- local files ---------------------------------------------------------------------------
    async def _put_file(self, lpath: str, rpath: str, callback: Callback = DEFAULT_CALLBACK,
                        chunksize: int | None = None, max_concurrency: int | None = None,
                        mode: str = "overwrite", **kwargs: Any) -> Any:
        """Upload a local file in concurrent, verified parts; ``resume=True`` continues
        the key's interrupted upload, sending only missing or changed parts."""
        if os.path.isdir(lpath):
            return await super()._put_file(lpath, rpath, callback=callback, chunksize=chunksize,
                                           max_concurrency=max_concurrency, mode=mode, **kwargs)
        if mode == "create":  # fsspec's exclusive put
            kwargs["exclusive"] = True
        resume, upload_id = kwargs.pop("resume", False), kwargs.pop("upload_id", None)
        if chunksize:
            kwargs.setdefault("part_size", chunksize)
        if max_concurrency:
            kwargs.setdefault("concurrency", max_concurrency)
        if not (kwargs.get("content_type") or kwargs.get("ContentType")):
            kwargs["content_type"] = mimetypes.guess_type(lpath)[0]
        if callback is not DEFAULT_CALLBACK and "progress" not in kwargs:
            callback.set_size(os.path.getsize(lpath))
            kwargs["progress"] = feeding_callback(callback)
        result = await self._upload_file(lpath, rpath, resume=resume, upload_id=upload_id,
                                         **kwargs)
        while rpath:
            self.invalidate_cache(rpath)
            rpath = self._parent(rpath)
        return result

    async def _upload_file(self, lpath: str, rpath: str, *, resume: bool = False,
                           upload_id: str | None = None, **options: Any) -> FileUploadResult:
        result = await upload_local_file(self._client, self.loop, lpath,
                                         self.object_ref(rpath, write=True),
                                         self._options_for(**options), resume=resume,
                                         upload_id=upload_id)
        self.invalidate_cache(rpath)
        return result

    def upload_file(self, lpath: str | os.PathLike[str], rpath: str, *, resume: bool = False,
                    upload_id: str | None = None,
                    **options: Unpack[WriteOptionsDict]) -> FileUploadResult:
        """Upload one local file (see :func:`mpu_toolkit.upload_file`)."""
        return run_blocking(self.loop, self._upload_file(os.fspath(lpath), rpath,
                                                         resume=resume, upload_id=upload_id,
                                                         **options))


def filesystem(storage_options: Mapping[str, Any] | None = None,
               fs: MPUFileSystem | None = None) -> MPUFileSystem:
    """``fs`` if given, else the (fsspec-cached) filesystem for ``storage_options``."""
    return fs if fs is not None else MPUFileSystem(**dict(storage_options or {}))


# fsspec's blocking wrappers let a KeyboardInterrupt reach the caller while the coroutine runs
# on (and may publish an object later); every one of them is replaced by an interruptible one.
make_interruptible(MPUFileSystem)
