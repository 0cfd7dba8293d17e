"""A probe family that fails midway answers each of its names with None ("not measured" and
why); the other families, and the clean-up, go on."""

from __future__ import annotations

from typing import Any

from helpers import proxied_fs

from mpu_toolkit import doctor
from mpu_toolkit.doctor import conditional
from mpu_toolkit.testing.faults import FaultProxy


def test_a_family_that_fails_midway_is_not_measured(proxy: FaultProxy,
                                                    storage_options: dict[str, Any],
                                                    bucket: str) -> None:
    proxy.fail("PutObject", "403", times=2, path="/taken")  # the conditional family's setup
    report = doctor(f"mpu://{bucket}/family-fails", fs=proxied_fs(proxy, storage_options))
    for name in conditional.NAMES:
        found = report.capabilities[name]
        assert found.supported is None and found.evidence == "not measured: 403 AccessDenied"
    assert report.capabilities["multipart"].supported is True
    assert dict(report.left_behind) == {"objects": 0, "uploads": 0}
