"""The README runs: every Python and shell block, in order, against the local S3 of
`mpu serve` (started here the same way, on a free port), in a child process and a scratch
directory. A block that only illustrates carries ``<!-- not run: why -->`` on the line before
it; there are few. A broken example fails here, naming its line in README.md. (The notebooks'
markdown has no code blocks; their code cells run in test_notebooks.py.)
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

from mpu_toolkit import MPUFileSystem
from mpu_toolkit.testing.local import LocalS3

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
SERVE_ENDPOINT = "http://127.0.0.1:9000"  # what `mpu serve` prints, and the README's `so`
FENCE = re.compile(r"^```(python|bash)\n(.*?)^```$", re.M | re.S)
NOT_RUN = re.compile(r"<!-- not run: (.+?) -->\s*$")

RUNNER = textwrap.dedent("""
    import json, os, subprocess, sys, traceback
    blocks, endpoint = json.load(open(sys.argv[1])), sys.argv[2]
    namespace = {"__name__": "__readme__"}
    for block in blocks:
        code = block["code"].replace(block["serve"], endpoint)
        print(f"--- README.md line {block['line']}: {block['kind']}", flush=True)
        if block["kind"] == "python":
            try:
                exec(compile(code, f"README.md:{block['line']}", "exec"), namespace)
            except BaseException:
                traceback.print_exc()
                sys.exit(f"README.md line {block['line']}: this Python block failed")
        else:
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", code])
            if done.returncode:
                sys.exit(f"README.md line {block['line']}: this shell block exited "
                         f"{done.returncode}")
""")


def readme_blocks() -> list[dict[str, object]]:
    text = README.read_text()
    blocks = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skipped = NOT_RUN.match(before)
        blocks.append({"kind": match.group(1), "code": match.group(2), "line": line,
                       "serve": SERVE_ENDPOINT, "not_run": skipped.group(1) if skipped else None})
    return blocks


def test_only_a_few_blocks_are_illustration_and_each_says_why() -> None:
    blocks = readme_blocks()
    skipped = [b for b in blocks if b["not_run"]]
    assert len(blocks) >= 10 and len(skipped) <= 6, [b["line"] for b in skipped]
    assert all(len(str(b["not_run"])) > 10 for b in skipped)


@pytest.mark.slow
def test_every_readme_example_runs_in_order(tmp_path: pathlib.Path) -> None:
    runnable = [b for b in readme_blocks() if not b["not_run"]]
    (tmp_path / "blocks.json").write_text(json.dumps(runnable))
    (tmp_path / "runner.py").write_text(RUNNER)
    with LocalS3() as s3:  # what `mpu serve` starts: moto, with a bucket named "bucket"
        MPUFileSystem(**s3.storage_options, skip_instance_cache=True).mkdir("bucket")
        so = s3.storage_options
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MPU_"))}
        env.update(AWS_ENDPOINT_URL=so["endpoint_url"], AWS_ACCESS_KEY_ID=so["key"],
                   AWS_SECRET_ACCESS_KEY=so["secret"], AWS_EC2_METADATA_DISABLED="true",
                   AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                   PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""))
        done = subprocess.run([sys.executable, "runner.py", "blocks.json", so["endpoint_url"]],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert done.stdout.count("--- README.md line") == len(runnable)
