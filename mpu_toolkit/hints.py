"""The ``mpu`` commands that messages suggest, written once.

A message below the CLI that says what to do next (abort a kept upload, resume it, list what
is left, set a lifecycle rule) takes its command from here, so that every hint names a real
command with real flags (tests/test_hints.py parses each one with the CLI's own parser) and
works as it is when pasted into a script: the abort hint carries ``--yes``, since ``mpu
abort`` otherwise asks for confirmation, and exits 2 where no one can answer. Placeholders
(``URL``, ``ID``, ``FILE``) stand where the message does not know the value.
"""

from __future__ import annotations

import shlex

__all__ = ["abort", "list_uploads", "resume_put", "lifecycle", "serve", "doctor", "list_objects",
           "remove"]


def _mpu(*words: str) -> str:
    return shlex.join(("mpu", *words))


def abort(url: str = "URL", upload_id: str | None = None, *, young: bool = False) -> str:
    """``mpu abort URL [--upload-id ID] [--force] --yes``: ``young`` for an upload that may
    be younger than ``mpu abort``'s protection of live writers (one that just failed)."""
    ids = ("--upload-id", upload_id) if upload_id else ()
    return _mpu("abort", url, *ids, *(("--force",) if young else ()), "--yes")


def list_uploads(url: str | None = None) -> str:
    """``mpu uploads [URL]``: the incomplete uploads, with their parts and bytes."""
    return _mpu("uploads", *((url,) if url else ()))


def resume_put(file: str, url: str, upload_id: str) -> str:
    """``mpu put --resume --upload-id ID FILE URL``: finish a kept upload from the file."""
    return _mpu("put", "--resume", "--upload-id", upload_id, file, url)


def lifecycle(url: str = "URL", days: int = 7) -> str:
    """``mpu lifecycle URL --set-days N``: let the store abort uploads older than N days."""
    return _mpu("lifecycle", url, "--set-days", str(days))


def serve(port: str = "PORT") -> str:
    """``mpu serve --port PORT``: a local S3 on another port."""
    return _mpu("serve", "--port", port)


def doctor(url: str = "mpu://BUCKET", save: str | None = None) -> str:
    """``mpu doctor URL [--save NAME]``: measure what the store honours (and keep it as a
    user preset that ``--provider NAME`` finds)."""
    return _mpu("doctor", url, *(("--save", save) if save else ()))


def list_objects(url: str | None = None) -> str:
    """``mpu ls [URL]``: the objects and prefixes under URL (none: the buckets)."""
    return _mpu("ls", *((url,) if url else ()))


def remove(url: str = "URL", *, recursive: bool = False) -> str:
    """``mpu rm URL [--recursive]``: delete an object (every object under a prefix)."""
    return _mpu("rm", url, *(("--recursive",) if recursive else ()))
