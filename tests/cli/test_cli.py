"""The ``mpu`` command through its real entry point (a subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

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
