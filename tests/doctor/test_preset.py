"""``report.save()`` writes the measured facts as a user preset that ``provider=`` finds: the
matching built-in preset's other fields kept, a source line naming the measurement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mpu_toolkit import ConfigurationError, DoctorReport, MPUFileSystem
from mpu_toolkit._s3.providers import provider_named
from mpu_toolkit.doctor.context import Capability
from mpu_toolkit.doctor.preset import default_name


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MPU_CONFIG_DIR", str(tmp_path))
    return tmp_path


def test_a_saved_report_is_a_preset_provider_finds(report: DoctorReport, config: Path,
                                                   storage_options: dict[str, Any],
                                                   bucket: str) -> None:
    path = report.save("measured-here")
    assert path == config / "providers" / "measured-here.json"
    record = json.loads(path.read_text())
    assert record["sources"][0].startswith("measured by mpu_toolkit ")
    assert record["sources"][0].endswith(report.endpoint)
    found = provider_named("Measured-Here")
    assert (found.endpoint, found.checksum) == (report.endpoint, report.recommended["checksum"])
    assert found.if_none_match_complete is report.recommended["if_none_match_complete"]
    assert found.copy_source_if_match is False and found.list_uploads_by_prefix is True
    # every field the doctor set says how it was measured, under the endpoint and the date
    assert set(record["measured"]) == set(report.recommended)
    here = f"mpu_toolkit's doctor on {report.endpoint}, {report.measured_on}: "
    assert found.measured["if_none_match_complete"] == (
        here + "if_none_match_complete: "
        + report.capabilities["if_none_match_complete"].evidence)
    assert all(line.startswith(here) for line in found.measured.values())
    # the endpoint comes from the preset: no endpoint_url given
    fs = MPUFileSystem(provider="measured-here", key=storage_options["key"],
                       secret=storage_options["secret"], skip_instance_cache=True)
    fs.pipe(f"{bucket}/saved-preset.txt", b"through the measured preset")
    assert fs.cat(f"{bucket}/saved-preset.txt") == b"through the measured preset"


def test_the_default_name_is_the_endpoint_s_host_and_port(report: DoctorReport,
                                                          config: Path) -> None:
    path = report.save()
    assert path.stem == default_name(report.endpoint)
    assert path.stem == report.endpoint.split("://")[1].replace(".", "-").replace(":", "-")


def test_the_matching_built_in_preset_s_fields_are_kept(config: Path) -> None:
    facts = {"if_none_match_complete": Capability(True, "412")}
    measured = DoctorReport("http://127.0.0.1:7480", "b", "ceph", facts,
                            {"if_none_match_complete": True, "checksum": "md5"},
                            {"objects": 0, "uploads": 0}, 1.0, "us-east-1", "2026-12-06")
    found = provider_named(measured.save("my-ceph").stem)
    ceph = provider_named("ceph")
    assert found.copies_by_reference is True and found.quirks == ceph.quirks
    assert found.if_none_match_complete is True  # measured over the preset's False
    assert found.sources[1:] == ceph.sources and "2026-12-06" in found.sources[0]
    # the measured field's line is the doctor's; the preset's other measured lines are kept
    assert found.measured["if_none_match_complete"] == (
        "mpu_toolkit's doctor on http://127.0.0.1:7480, 2026-12-06: if_none_match_complete: 412")
    assert found.measured["checksum"].startswith("mpu_toolkit's doctor on http://127.0.0.1:7480, "
                                                 "2026-12-06: none of ")
    assert found.measured["copies_by_reference"] == ceph.measured["copies_by_reference"]


def test_a_built_in_name_is_refused(report: DoctorReport, config: Path) -> None:
    with pytest.raises(ConfigurationError, match="built-in provider"):
        report.save("ceph")
    assert not (config / "providers" / "ceph.json").exists()
