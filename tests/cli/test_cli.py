"""The ``mpu`` command through its real entry point (a subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from helpers import with_sigint

import mpu_toolkit

MPU = shutil.which("mpu")
pytestmark = pytest.mark.skipif(MPU is None, reason="the `mpu` console script is not installed "
                                                    "(pip install -e .)")


def mpu(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    assert MPU is not None
    return subprocess.run([MPU, *args], capture_output=True, text=True, timeout=timeout)


def test_version():
    done = mpu("--version")
    assert done.returncode == 0 and mpu_toolkit.__version__ in done.stdout


@pytest.mark.slow
def test_demo_runs_on_its_embedded_server_and_reports_json():
    done = mpu("demo", "--size", "12MiB", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert report["stream"]["bytes"] == 12 * 1024 * 1024 and report["stream"]["read_back_matches"]
    assert report["frame"]["round_trip_equal"] is True
    assert report["failure"] == {"object_exists": False, "incomplete_uploads": 0,
                                 "state": "failed"}
    assert "embedded S3 endpoint (moto) started at http://127.0.0.1:" in done.stderr


def test_demo_against_a_given_endpoint(storage_options, monkeypatch):
    env_creds = {"AWS_ACCESS_KEY_ID": storage_options["key"],
                 "AWS_SECRET_ACCESS_KEY": storage_options["secret"]}
    done = subprocess.run([MPU, "demo", "--size", "6MiB", "--json", "--endpoint-url",
                           storage_options["endpoint_url"]], capture_output=True, text=True,
                          timeout=180, env={**__import__("os").environ, **env_creds})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True
    assert storage_options["secret"] not in done.stdout + done.stderr


def test_bad_size_is_a_usage_error_with_the_fix():
    done = mpu("demo", "--size", "lots")
    assert done.returncode == 2  # bad usage
    assert "--size='lots' is not a size" in done.stderr and "16MiB" in done.stderr


@pytest.fixture
def mpu_runner(request):
    """conftest's `mpu` (credentials in the environment, the session's endpoint); this
    module's own `mpu()` runs the command bare."""
    return request.getfixturevalue("mpu")


def _env(storage_options) -> dict[str, str]:
    import os

    return {**os.environ, "AWS_ACCESS_KEY_ID": storage_options["key"],
            "AWS_SECRET_ACCESS_KEY": storage_options["secret"]}


def test_demo_on_a_given_endpoint_leaves_nothing_behind(storage_options, boto, bucket):
    """With --endpoint-url the demo writes under a unique prefix of --bucket (or in a bucket
    it creates) and deletes all it wrote. Only the demo's buckets are compared: on a shared
    server (RGW) the other test processes create and delete buckets meanwhile."""
    def demo_buckets() -> set[str]:
        return {b["Name"] for b in boto.list_buckets()["Buckets"]
                if b["Name"].startswith("mpu-demo-")}

    buckets_before = demo_buckets()
    for extra in ([], ["--bucket", bucket]):
        done = subprocess.run([MPU, "demo", "--size", "6MiB", "--json", "--endpoint-url",
                               storage_options["endpoint_url"], *extra], capture_output=True,
                              text=True, timeout=180, env=_env(storage_options))
        assert done.returncode == 0, done.stderr
        assert "deleted at the end" in done.stderr
    assert demo_buckets() == buckets_before
    assert boto.list_objects_v2(Bucket=bucket, Prefix="mpu-demo-").get("KeyCount", 0) == 0


def test_demo_with_a_bad_endpoint_or_no_keys_is_one_line_not_a_traceback(storage_options):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = subprocess.run([MPU, "demo", "--endpoint-url", f"http://127.0.0.1:{port}"],
                          capture_output=True, text=True, timeout=60, env=_env(storage_options))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"cannot connect to http://127.0.0.1:{port}" in done.stderr
    import os

    bare = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    bare.update(AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_CONFIG_FILE=os.devnull,
                AWS_EC2_METADATA_DISABLED="true")
    no_keys = subprocess.run([MPU, "demo", "--endpoint-url", f"http://127.0.0.1:{port}"],
                             capture_output=True, text=True, timeout=60, env=bare)
    assert no_keys.returncode == 1 and "Traceback" not in no_keys.stderr
    assert "no credentials were found" in no_keys.stderr


def test_global_options_go_before_or_after_the_command(mpu_runner, bucket, key):
    for argv in (["uploads", f"mpu://{bucket}/{key}/", "--json", "--max-attempts", "2"],
                 ["--json", "--max-attempts", "2", "uploads", f"mpu://{bucket}/{key}/"]):
        done = mpu_runner(*argv)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == []


def test_a_misspelled_option_is_refused_with_the_closest_real_one():
    done = mpu("abort", "mpu://b/tmp/", "--older-then=7d", "--dryrun", "--endpont-url", "x")
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert "--older-than for --older-then" in last and "--dry-run for --dryrun" in last
    assert "--endpoint-url for --endpont-url" in last
    far = mpu("uploads", "mpu://b/", "--zzz")
    assert far.returncode == 2 and "--zzz" in far.stderr and "did you mean" not in far.stderr


def test_every_argument_has_help():
    from mpu_toolkit.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, command in commands.items():
        for action in command._actions:
            assert action.help, f"mpu {name}: {action.dest} has no help"


def test_abort_of_an_id_not_found_exits_1_and_a_unique_prefix_names_an_upload(
        mpu_runner, boto, bucket, key):
    kept = boto.create_multipart_upload(Bucket=bucket, Key=f"{key}/a")["UploadId"]
    gone = mpu_runner("abort", f"mpu://{bucket}/{key}/", "--upload-id", "NOPE", "--yes",
                      "--force")
    assert gone.returncode == 1 and "not found" in gone.stderr and "NOPE" in gone.stderr
    done = mpu_runner("abort", f"mpu://{bucket}/{key}/", "--upload-id", kept[:12], "--yes",
                      "--force", "--json")
    assert done.returncode == 0, done.stderr
    assert [row["outcome"] for row in json.loads(done.stdout)] == ["aborted"]


def test_a_lifecycle_prefix_without_a_slash_is_warned_about(mpu_runner, boto):
    import uuid

    name = f"mpu-lc-{uuid.uuid4().hex[:10]}"
    boto.create_bucket(Bucket=name)
    try:
        loose = mpu_runner("lifecycle", f"mpu://{name}/tmp", "--set-days", "3")
        assert loose.returncode == 0, loose.stderr
        assert "every key that starts with 'tmp'" in loose.stderr
        folder = mpu_runner("lifecycle", f"mpu://{name}/tmp/", "--set-days", "3", "--json")
        assert [r["prefix"] for r in json.loads(folder.stdout)] == ["tmp/"]
        assert "every key that starts" not in folder.stderr
    finally:
        boto.delete_bucket_lifecycle(Bucket=name)
        boto.delete_bucket(Bucket=name)
