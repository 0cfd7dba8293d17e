"""Fixtures of the engine's tests: the writer's instrumented fake sink."""

from __future__ import annotations

from typing import Iterator

import pytest
from writer_fakes import FakeSink


@pytest.fixture
def sink() -> Iterator[FakeSink]:
    s = FakeSink()
    yield s
    s.close()


@pytest.fixture
def tsink() -> Iterator[FakeSink]:
    """A threaded sink with the gate closed: parts stay in flight until ``gate.set()``."""
    s = FakeSink(threaded=True, gate_open=False)
    yield s
    s.close()
