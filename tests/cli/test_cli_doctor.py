"""``mpu doctor`` through the real command: the table for people, ``--json`` in the issue's
shape, ``--save`` and then ``--provider NAME`` without an endpoint, and its usage errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import MPU, Mpu

from mpu_toolkit.doctor import NAMES

pytestmark = pytest.mark.skipif(MPU is None, reason="the `mpu` console script is not installed")


def test_the_table_has_a_line_per_capability(mpu: Mpu, bucket: str) -> None:
    done = mpu("doctor", f"mpu://{bucket}/cli-doctor")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for name in NAMES:
        line = next(line for line in lines if line.split()[:1] == [name])
        assert line.split()[1] in ("yes", "no", "?"), line
    assert "left behind: 0 objects, 0 uploads" in done.stdout
    assert "recommended: checksum=" in done.stdout
    assert "UploadPart via: part path" in lines


def test_it_names_why_parts_go_through_botocore(mpu: Mpu, bucket: str) -> None:
    done = mpu("doctor", f"mpu://{bucket}/cli-doctor-switch",
               env={"MPU_TOOLKIT_PART_PATH": "botocore"})
    assert done.returncode == 0, done.stderr
    assert "UploadPart via: botocore: MPU_TOOLKIT_PART_PATH=botocore" in done.stdout.splitlines()


def test_json_is_the_issue_s_shape(mpu: Mpu, bucket: str, boto: Any) -> None:
    found = mpu.json("doctor", f"mpu://{bucket}/cli-doctor-json")
    assert {"endpoint", "bucket", "provider", "capabilities", "recommended",
            "left_behind"} <= set(found)
    assert set(found["capabilities"]) == set(NAMES)
    assert all(set(c) == {"supported", "evidence"} for c in found["capabilities"].values())
    assert found["left_behind"] == {"objects": 0, "uploads": 0}
    assert boto.list_objects_v2(Bucket=bucket, Prefix="cli-doctor-json/")["KeyCount"] == 0


def test_save_then_provider_finds_the_endpoint(mpu: Mpu, bucket: str, tmp_path: Path) -> None:
    env = {"MPU_CONFIG_DIR": str(tmp_path)}
    done = mpu("doctor", f"mpu://{bucket}", "--save", "cli-measured", "--json", env=env)
    assert done.returncode == 0, done.stderr
    saved = Path(json.loads(done.stdout)["saved"])
    assert saved == tmp_path / "providers" / "cli-measured.json" and saved.exists()
    # no --endpoint-url: the saved preset's endpoint is used
    listed = mpu("uploads", f"mpu://{bucket}/nothing-here/", "--provider", "cli-measured",
                 env=env, endpoint="")
    assert listed.returncode == 0, listed.stderr


def test_without_a_url_it_is_a_usage_error(mpu: Mpu) -> None:
    done = mpu("doctor")
    assert done.returncode == 2 and "needs a bucket" in done.stderr


def test_a_missing_bucket_fails_with_one_line(mpu: Mpu) -> None:
    done = mpu("doctor", "mpu://no-such-bucket-for-the-cli-doctor")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "no-such-bucket-for-the-cli-doctor" in done.stderr
