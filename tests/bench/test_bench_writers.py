"""Every writer says what it sends (NOTES, printed under every table); the integrity modes
each have a writer; the default 'mpu' is checksum='auto', md5 on an unknown store."""

from __future__ import annotations

from mpu_toolkit._plan.integrity import ChecksumMode

from bench_writers import DEFAULT_WRITERS, MPU_MODES, NOTES, WRITERS


def test_every_writer_has_its_note_and_every_mode_its_writer() -> None:
    assert set(NOTES) == set(WRITERS)
    concrete = {m.value for m in ChecksumMode} - {"auto", "none"}
    assert set(MPU_MODES) == concrete
    for mode in concrete:
        assert f"checksum={mode!r}" in NOTES[f"mpu-{mode}"]


def test_the_default_writers_are_the_issues() -> None:
    for writer in ("mpu", "mpu-nochecksum", "mpu-crc32c", "mpu-crc64nvme",
                   "mpu-sha256-payload", "obstore", "tcp-loopback"):
        assert writer in DEFAULT_WRITERS
    assert "checksum='auto'" in NOTES["mpu"] and "unknown store, so md5" in NOTES["mpu"]
    assert "socket.sendall" in NOTES["tcp-loopback"]
