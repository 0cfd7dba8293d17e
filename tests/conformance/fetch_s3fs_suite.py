"""Find or fetch ``s3fs/tests/test_s3fs.py`` of the installed s3fs (its sdist's test suite).

Looked for, in order: the directory named by ``MPU_S3FS_TESTS``; the repository's cache
``.cache/s3fs-tests/<version>/``; else the sdist is downloaded with pip and the file extracted
into that cache. ``.ci/run`` runs this module up front (it prints the file's path).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "s3fs-tests"
SUITE = "test_s3fs.py"


class SuiteUnavailable(Exception):
    """The suite is not on this machine and could not be downloaded; the message says why."""


def s3fs_suite(cache: Path = CACHE) -> Path:
    """The path of ``test_s3fs.py`` for the installed s3fs, fetched into ``cache`` if needed."""
    given = os.environ.get("MPU_S3FS_TESTS")
    if given:
        path = Path(given) / SUITE
        if not path.is_file():
            raise SuiteUnavailable(f"MPU_S3FS_TESTS={given!r} has no {SUITE}")
        return path
    s3fs_version = version("s3fs")
    path = cache / s3fs_version / SUITE
    if not path.is_file():
        _fetch(s3fs_version, path)
    return path


def _fetch(s3fs_version: str, path: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", f"s3fs=={s3fs_version}",
                 "--no-binary", ":all:", "--no-deps", "--timeout", "20", "-q", "-d", tmp],
                capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            raise SuiteUnavailable(f"pip download s3fs=={s3fs_version}: timed out") from None
        sdists = list(Path(tmp).glob("s3fs-*.tar.gz"))
        if done.returncode or not sdists:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no sdist"]
            raise SuiteUnavailable(f"pip download s3fs=={s3fs_version} --no-binary :all: "
                                   f"failed (offline?): {tail[0]}")
        member = f"s3fs-{s3fs_version}/s3fs/tests/{SUITE}"
        with tarfile.open(sdists[0]) as sdist:
            source = sdist.extractfile(member)
            if source is None:
                raise SuiteUnavailable(f"{sdists[0].name} has no {member}")
            text = source.read()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")  # concurrent fetchers never see half
    partial.write_bytes(text)
    partial.replace(path)


if __name__ == "__main__":
    try:
        print(s3fs_suite())
    except SuiteUnavailable as exc:
        sys.exit(f"s3fs's test suite: {exc}")
