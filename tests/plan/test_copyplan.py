"""Copy and compose layouts, checked exactly (tiny part limits keep the examples small)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from mpu_toolkit._plan.copyplan import copy_ranges, plan_compose, plan_equal
from mpu_toolkit.errors import TooManyPartsError
from mpu_toolkit._plan.sizing import MiB, PartLimits

TINY = PartLimits(min_part=5, max_part=100, max_parts=10_000, max_object=10**9)


def tiled(sizes, plan):
    """The (source, first, last) ranges the plan reads, merged where they touch."""
    merged: list[list[int]] = []
    for part in plan:
        for s in part.segments:
            if merged and merged[-1][0] == s.source and merged[-1][2] + 1 == s.first:
                merged[-1][2] = s.last
            else:
                merged.append([s.source, s.first, s.last])
    return [tuple(m) for m in merged]


@settings(max_examples=400, deadline=None)
@given(sizes=st.lists(st.integers(0, 260), min_size=1, max_size=25),
       part_size=st.integers(5, 60))
def test_compose_plan_is_byte_exact_and_obeys_the_part_rules(sizes, part_size):
    plan = plan_compose(sizes, part_size, TINY)
    # every byte of every source, once, in order
    assert tiled(sizes, plan) == [(i, 0, n - 1) for i, n in enumerate(sizes) if n]
    assert [p.number for p in plan] == list(range(1, len(plan) + 1))
    for part in plan[:-1]:
        assert TINY.min_part <= part.size <= TINY.max_part
    for part in plan:
        assert part.size >= 1
        if part.kind == "copy":
            assert len(part.segments) == 1
        else:  # downloaded pieces stay small: under two minimum parts
            assert part.size < 2 * TINY.min_part


@settings(max_examples=400, deadline=None)
@given(sizes=st.lists(st.integers(0, 260), min_size=1, max_size=25),
       part_size=st.integers(5, 60))
def test_equal_plan_is_byte_exact_with_one_part_size_and_a_last_no_larger(sizes, part_size):
    """Cloudflare R2's rule: all parts but the last of one size, the last no larger; a part
    inside one source is copied, one across sources uploaded."""
    plan = plan_equal(sizes, part_size, TINY)
    assert tiled(sizes, plan) == [(i, 0, n - 1) for i, n in enumerate(sizes) if n]
    assert [p.number for p in plan] == list(range(1, len(plan) + 1))
    if plan:
        assert len({p.size for p in plan[:-1]}) <= 1 and plan[-1].size <= plan[0].size
        assert TINY.min_part <= plan[0].size <= TINY.max_part or len(plan) == 1
    for part in plan:
        assert part.kind == ("copy" if len(part.segments) == 1 else "upload")
        assert all(s.size >= 1 for s in part.segments)


def test_equal_plan_copies_within_sources_and_uploads_across():
    plan = plan_equal([6 * MiB, 7 * MiB + 5], 5 * MiB)
    assert [(p.kind, p.size) for p in plan] == [("copy", 5 * MiB), ("upload", 5 * MiB),
                                                ("copy", 3 * MiB + 5)]
    assert plan[1].segments[0].source == 0 and plan[1].segments[1].source == 1
    assert plan_equal([0, 0], 5 * MiB) == []


@settings(max_examples=200, deadline=None)
@given(sizes=st.lists(st.integers(5, 400), min_size=1, max_size=10),
       part_size=st.integers(5, 60))
def test_sources_of_at_least_the_minimum_are_all_copied(sizes, part_size):
    plan = plan_compose(sizes, part_size, TINY)
    assert {p.kind for p in plan} == {"copy"}


def test_small_pieces_borrow_only_what_they_need_from_the_next_large_source():
    M = MiB
    plan = plan_compose([1 * M, 100 * M, 2 * M, 3 * M, 7 * M + 5, 1 * M], 16 * M)
    shape = [(p.kind, [(s.source, s.first, s.size) for s in p.segments]) for p in plan]
    assert shape[0] == ("upload", [(0, 0, M), (1, 0, 4 * M)])  # 1 MiB + 4 MiB head
    assert shape[1:7] == [("copy", [(1, 4 * M + 16 * M * i, 16 * M)]) for i in range(6)]
    assert shape[7] == ("upload", [(2, 0, 2 * M), (3, 0, 3 * M)])
    assert shape[8] == ("copy", [(4, 0, 7 * M + 5)])
    assert shape[9] == ("copy", [(5, 0, M)])  # a small last part is copied, not downloaded
    assert sum(p.size for p in plan if p.kind == "upload") == 10 * M


def test_empty_sources_are_skipped_and_all_empty_is_no_part():
    assert plan_compose([0, 0], 16 * MiB) == []
    assert [p.kind for p in plan_compose([0, 10, 0], 10, TINY)] == ["copy"]


def test_too_many_parts_is_refused_with_the_fix():
    limits = PartLimits(min_part=5, max_part=100, max_parts=3, max_object=10**9)
    with pytest.raises(TooManyPartsError, match="compose them in groups"):
        plan_compose([10, 10, 10, 10], 10, limits)


@given(size=st.integers(1, 5000), part_size=st.integers(5, 100))
def test_copy_ranges_tile_the_object_within_the_limits(size, part_size):
    ranges = copy_ranges(size, part_size, TINY)
    assert ranges[0][0] == 0 and ranges[-1][1] == size - 1
    assert all(b[0] == a[1] + 1 for a, b in zip(ranges, ranges[1:]))
    assert all(TINY.min_part <= last - first + 1 <= TINY.max_part
               for first, last in ranges[:-1] if len(ranges) > 1)
    if len(ranges) > 1:
        assert ranges[-1][1] - ranges[-1][0] + 1 >= TINY.min_part  # no runt tail


def test_copy_ranges_of_a_6_gib_object_need_more_than_one_request():
    ranges = copy_ranges(6 * 1024 * MiB, 64 * MiB)
    assert len(ranges) == 96 and ranges[-1] == (6 * 1024 * MiB - 64 * MiB, 6 * 1024 * MiB - 1)
