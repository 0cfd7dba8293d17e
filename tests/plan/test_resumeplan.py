"""Laying a local file over the stored parts of an interrupted upload, checked exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from mpu_toolkit.errors import TooManyPartsError
from mpu_toolkit.model import PartInfo
from mpu_toolkit._plan.resumeplan import plan_resume
from mpu_toolkit._plan.sizing import PartLimits

TINY = PartLimits(min_part=5, max_part=100, max_parts=10_000, max_object=10**9)


def parts(*sizes_by_number: tuple[int, int]) -> list[PartInfo]:
    return [PartInfo(n, size, f'"etag-{n}"') for n, size in sizes_by_number]


def layout(steps):
    return [(s.number, s.offset, s.size, s.stored is not None) for s in steps]


def test_nothing_stored_lays_the_file_in_equal_parts():
    assert layout(plan_resume([], 23, 10, TINY)) == [(1, 0, 10, False), (2, 10, 10, False),
                                                     (3, 20, 3, False)]


def test_stored_parts_with_gaps_are_candidates_at_their_places():
    steps = plan_resume(parts((2, 10), (4, 10), (5, 3)), 43, 10, TINY)
    assert layout(steps) == [(1, 0, 10, False), (2, 10, 10, True), (3, 20, 10, False),
                             (4, 30, 10, True), (5, 40, 3, True)]


def test_the_stored_part_size_wins_over_the_callers_preference():
    steps = plan_resume(parts((2, 20)), 50, 10, TINY)
    assert layout(steps) == [(1, 0, 20, False), (2, 20, 20, True), (3, 40, 10, False)]


def test_growing_parts_of_a_streaming_writer_keep_their_exact_offsets():
    steps = plan_resume(parts((1, 5), (2, 5), (3, 10), (4, 20)), 60, 5, TINY)
    assert layout(steps)[:4] == [(1, 0, 5, True), (2, 5, 5, True), (3, 10, 10, True),
                                 (4, 20, 20, True)]
    assert sum(s.size for s in steps) == 60


def test_a_file_that_grew_does_not_reuse_the_old_short_last_part():
    # the old file was 23 bytes: parts 10, 10, 3; the file now has 33 bytes
    steps = plan_resume(parts((1, 10), (2, 10), (3, 3)), 33, 10, TINY)
    assert layout(steps) == [(1, 0, 10, True), (2, 10, 10, True), (3, 20, 10, False),
                             (4, 30, 3, False)]


def test_a_file_that_shrank_leaves_the_parts_past_its_end_out():
    steps = plan_resume(parts((1, 10), (2, 10), (3, 10)), 15, 10, TINY)
    assert layout(steps) == [(1, 0, 10, True), (2, 10, 5, False)]


def test_an_empty_file_is_one_empty_part():
    assert layout(plan_resume([], 0, 10, TINY)) == [(1, 0, 0, False)]


def test_stored_parts_that_leave_too_many_parts_are_refused_with_the_fix():
    limits = PartLimits(min_part=5, max_part=10, max_parts=3, max_object=10**9)
    with pytest.raises(TooManyPartsError, match="resume=False"):
        plan_resume(parts((1, 5)), 30, 5, limits)


@settings(max_examples=300, deadline=None)
@given(total=st.integers(0, 900), part_size=st.integers(5, 60),
       stored=st.dictionaries(st.integers(1, 40), st.integers(1, 100), max_size=15))
def test_any_plan_tiles_the_file_and_obeys_the_part_rules(total, part_size, stored):
    steps = plan_resume(parts(*stored.items()), total, part_size, TINY)
    assert [s.number for s in steps] == list(range(1, len(steps) + 1))
    assert steps[0].offset == 0
    assert all(b.offset == a.offset + a.size for a, b in zip(steps, steps[1:]))
    assert steps[-1].offset + steps[-1].size == total
    assert all(TINY.min_part <= s.size <= TINY.max_part for s in steps[:-1])
    for s in steps:  # a candidate is the stored part of that number and exactly that size
        if s.stored is not None:
            assert s.stored.number == s.number and s.stored.size == s.size
