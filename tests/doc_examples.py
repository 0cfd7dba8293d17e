"""Runs the code examples of a Markdown page (README.md, docs/**/*.md): every ```python and
```bash block, in order, in one child process and a scratch directory, against a fresh local
S3 started the way `mpu serve` starts it (moto on a free port of 127.0.0.1, with a bucket named
"bucket"). A block that only illustrates carries ``<!-- not run: why -->`` on the line before
it. Used by tests/test_readme.py and tests/docs/test_examples.py."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap
from dataclasses import asdict, dataclass

from mpu_toolkit import MPUFileSystem
from mpu_toolkit.testing.local import LocalS3

ROOT = pathlib.Path(__file__).resolve().parents[1]
SERVE_ENDPOINT = "http://127.0.0.1:9000"  # what `mpu serve` prints, and the pages' `so`
FENCE = re.compile(r"^```(python|bash)\n(.*?)^```$", re.M | re.S)
NOT_RUN = re.compile(r"<!-- not run: (.+?) -->\s*$")

RUNNER = textwrap.dedent("""
    import json, subprocess, sys, traceback
    blocks, endpoint = json.load(open(sys.argv[1])), sys.argv[2]
    namespace = {"__name__": "__doc_example__"}
    for block in blocks:
        where = f"{block['page']} line {block['line']}"
        code = block["code"].replace(block["serve"], endpoint)
        print(f"--- {where}: {block['kind']}", flush=True)
        if block["kind"] == "python":
            try:
                exec(compile(code, f"{block['page']}:{block['line']}", "exec"), namespace)
            except BaseException:
                traceback.print_exc()
                sys.exit(f"{where}: this Python block failed")
        else:
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", code])
            if done.returncode:
                sys.exit(f"{where}: this shell block exited {done.returncode}")
""")


@dataclass(frozen=True)
class Block:
    page: str  # relative to the repository's root
    line: int
    kind: str  # "python" or "bash"
    code: str
    not_run: str | None  # why it only illustrates, or None: it runs
    serve: str = SERVE_ENDPOINT


def pages() -> list[pathlib.Path]:
    """The docs pages, in a stable order (README.md has its own test)."""
    return sorted((ROOT / "docs").rglob("*.md"))


def blocks(page: pathlib.Path) -> list[Block]:
    text = page.read_text()
    found = []
    for match in FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skipped = NOT_RUN.match(before)
        found.append(Block(str(page.relative_to(ROOT)), text.count("\n", 0, match.start()) + 1,
                           match.group(1), match.group(2),
                           skipped.group(1) if skipped else None))
    return found


def run_page(page: pathlib.Path, scratch: pathlib.Path) -> None:
    """Runs the page's runnable blocks in order; fails naming the block that broke."""
    runnable = [b for b in blocks(page) if not b.not_run]
    (scratch / "blocks.json").write_text(json.dumps([asdict(b) for b in runnable]))
    (scratch / "runner.py").write_text(RUNNER)
    with LocalS3() as s3:  # what `mpu serve` starts: moto, with a bucket named "bucket"
        MPUFileSystem(**s3.storage_options, skip_instance_cache=True).mkdir("bucket")
        so = s3.storage_options
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MPU_"))}
        env.update(AWS_ENDPOINT_URL=so["endpoint_url"], AWS_ACCESS_KEY_ID=so["key"],
                   AWS_SECRET_ACCESS_KEY=so["secret"], AWS_EC2_METADATA_DISABLED="true",
                   AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                   MPU_CONFIG_DIR=str(scratch / "config"),
                   PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""))
        done = subprocess.run([sys.executable, "runner.py", "blocks.json", so["endpoint_url"]],
                              cwd=scratch, env=env, capture_output=True, text=True,
                              timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    started = done.stdout.count(f"--- {page.relative_to(ROOT)} line ")
    assert started == len(runnable), done.stdout[-4000:]
