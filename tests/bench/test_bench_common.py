"""The quiet-machine guard every benchmark starts with: a loaded start is waited out, then
refused (exit code 3) or, when allowed, marked. Thresholds and clocks are injected, so
"loaded" is forced without loading the machine."""

from __future__ import annotations

import pytest

import bench_common
from bench_common import LOADED_EXIT, wait_for_quiet


class FakeTime:
    """A clock that advances only when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_quiet_start_runs_unmarked_and_does_not_wait() -> None:
    time = FakeTime()
    check = wait_for_quiet(120, False, 1.0, loadavg=lambda: 0.4, sleep=time.sleep,
                           clock=time.clock)
    assert check.quiet and check.mark == "" and time.slept == []
    assert "quiet" in check.summary(0.6) and "LOADED" not in check.summary(0.6)


def test_a_loaded_start_is_waited_out_until_the_load_falls() -> None:
    time = FakeTime()
    loads = iter([3.5, 2.0, 1.2, 0.9])
    check = wait_for_quiet(120, False, 1.0, loadavg=lambda: next(loads), sleep=time.sleep,
                           clock=time.clock, poll_s=5)
    assert check.quiet and check.start == 0.9
    assert time.slept == [5, 5, 5] and check.waited_s == 15


def test_a_machine_that_stays_loaded_is_refused_with_exit_code_3(capsys) -> None:
    time = FakeTime()
    with pytest.raises(SystemExit) as raised:
        wait_for_quiet(12, False, 1.0, loadavg=lambda: 2.5, sleep=time.sleep,
                       clock=time.clock, poll_s=5)
    assert raised.value.code == LOADED_EXIT == 3
    assert time.slept == [5, 5, 2] and time.now == 12  # waited exactly --wait-quiet
    err = capsys.readouterr().err
    assert "refusing to record" in err and "2.50" in err and "--allow-loaded" in err


def test_allowed_to_run_loaded_it_marks_the_figures() -> None:
    time = FakeTime()
    check = wait_for_quiet(0, True, 1.0, loadavg=lambda: 2.5, sleep=time.sleep,
                           clock=time.clock)
    assert not check.quiet and time.slept == []
    assert check.mark == "LOADED (load 2.50 at start)"
    assert check.mark in check.summary(3.0) and "at end 3.00" in check.summary(3.0)


def test_a_negative_threshold_forces_loaded_on_the_real_load_average() -> None:
    with pytest.raises(SystemExit) as raised:
        wait_for_quiet(0, False, -1.0)
    assert raised.value.code == LOADED_EXIT


@pytest.mark.parametrize("script", ["stream_bench", "parquet_bench", "integrity_bench"])
def test_every_benchmark_refuses_a_loaded_start_before_it_starts_a_server(script: str,
                                                                           capsys) -> None:
    module = __import__(script)
    with pytest.raises(SystemExit) as raised:
        module.main(["--max-load", "-1", "--wait-quiet", "0", "--sink", "null"])
    assert raised.value.code == LOADED_EXIT
    captured = capsys.readouterr()
    assert "refusing to record" in captured.err and "server:" not in captured.out


def test_the_header_states_date_cpu_load_and_versions() -> None:
    env = bench_common.environment(("boto3",))
    check = bench_common.LoadCheck(0.5, 1.0)
    header = bench_common.report_header(env, check, 0.7)
    assert env["date_utc"].endswith("UTC") and env["date_utc"] in header
    assert env["cpu_model"] and env["cpu_model"] in header
    assert "at start 0.50, at end 0.70" in header and "boto3 " in header

