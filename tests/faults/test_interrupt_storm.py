"""Ctrl-C storms: ONE SIGINT at a random moment (uniform 0.1–4 s after the work started) to
a child streaming through a blocking entry point: the frame writers and an fsspec ``"wb"``
file streaming endless data straight to the server (as a notebook user would), ``upload_file``,
``copy`` and ``compose`` slowed at the fault proxy so that they outlast the storm's moments,
and the CLI's ``mpu put`` and ``mpu cp`` (slowed the same way).

Every run must end by the interrupt: exit by SIGINT (-2) for Python, 130 for the CLI, never a
crash (pandas' C JSON encoder segfaulted on ~6% of interrupts landing inside it, before the
frame encoders ran off the caller's thread); within ``EXIT_WITHIN`` seconds (else the test
fails with the child's stacks); with nothing left on the server and nothing published, as
an independent client sees it.

``--storm-runs N`` (tests/conftest.py) sets the number of runs (default 24, a few minutes;
more for a stress run), a third of them of ``write_jsonl``; ``--storm-seed SEED`` replays the
moments a failed run printed.
"""

from __future__ import annotations

import json
import random
import time
import pytest
from helpers import incomplete_uploads, object_exists, wait_until
from interrupting import (WORK, child, interrupted_output, line_starting, mpu_process, prepared,
                          settled)

pytestmark = pytest.mark.slow

EXIT_WITHIN = 20.0  # seconds from the SIGINT to the child's exit
STORM_SLOW = 2.0  # seconds per slowed request: 12 parts, 2 at a time, outlast every moment
#: the CLI's commands: the CHILD entry point whose work they are given, and their options
CLI = {"mpu put": ("upload_file", ["--concurrency", "2"]),
       "mpu cp": ("copy", ["--concurrency", "2", "--copy-cutoff", "0"])}
OTHERS = ["write_csv", "write_parquet", "fsspec-wb", "upload_file", "copy", "compose", *CLI]


def storm(runs: int) -> list[str]:
    """``runs`` entry points: a third write_jsonl (where the crash was), the rest in turn."""
    jsonl = max(1, runs // 3) if runs > 1 else runs
    return ["write_jsonl"] * jsonl + [OTHERS[i % len(OTHERS)] for i in range(runs - jsonl)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "entry" in metafunc.fixturenames:
        runs = storm(metafunc.config.getoption("storm_runs"))
        metafunc.parametrize("entry", runs,
                             ids=[f"{what.replace(' ', '-')}-{n}" for n, what in enumerate(runs)])


@pytest.fixture(scope="session")
def storm_seed(request: pytest.FixtureRequest) -> int:
    given = request.config.getoption("storm_seed")
    return given if given is not None else random.SystemRandom().randrange(1_000_000)


def test_one_ctrl_c_at_a_random_moment(entry, storm_seed, request, tmp_path, proxy,
                                       storage_options, boto, bucket, key, mpu):
    moment = random.Random(f"{storm_seed}/{request.node.callspec.id}").uniform(0.1, 4.0)
    said = (f"{entry}, SIGINT {moment:.2f} s after the start (storm seed {storm_seed}: "
            f"replay with --storm-seed {storm_seed} -k {request.node.callspec.id!r})")
    url = f"mpu://{bucket}/{key}"
    what, options = CLI.get(entry, (entry, []))
    request_name, so, arg = prepared(what, tmp_path, proxy, storage_options, boto, bucket, key,
                                     slow=STORM_SLOW)
    if entry in CLI:
        process = mpu_process(mpu, proxy.endpoint_url, entry.split()[1], arg, url,
                              "--part-size", "5MiB", *options)
        wait_until(lambda: proxy.seen, timeout=60)  # started: its imports are done
    else:
        endless = WORK[what][2] is None  # streams until interrupted: straight to the server
        process = child(what, url, storage_options if endless else so, arg)
        line_starting(process, "go")
    time.sleep(moment)
    sent = time.monotonic()
    stdout, stderr = interrupted_output(process, within=EXIT_WITHIN)
    took = time.monotonic() - sent
    tail = stderr[-4000:]
    assert process.returncode not in (-11, -6, -7, -8), f"{said}: CRASHED\n{tail}"
    if entry in CLI:
        assert process.returncode == 130 and "mpu: interrupted" in stderr, f"{said}\n{tail}"
    else:
        assert process.returncode == -2 and "KeyboardInterrupt" in stderr, f"{said}\n{tail}"
    if "part" in stdout or request_name in proxy.seen:  # an upload was under way
        assert "aborted, nothing published" in stderr, f"{said}: no note says so\n{tail}"
    settled(boto, bucket, key, seconds=STORM_SLOW + 1)
    assert not object_exists(boto, bucket, key), f"{said}: an object was published"
    assert incomplete_uploads(boto, bucket, key) == [], f"{said}: an upload was left"
    print(json.dumps({"entry": entry, "moment": round(moment, 2), "exit": process.returncode,
                      "exit_seconds": round(took, 2)}))
