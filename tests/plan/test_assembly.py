"""Pieces → parts of one object, checked exactly (tiny limits keep the examples small)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from mpu_toolkit._plan.assembly import Assembler, layout_piece
from mpu_toolkit.errors import ConfigurationError, TooManyPartsError
from mpu_toolkit.model import PartInfo
from mpu_toolkit._plan.sizing import PartLimits

TINY = PartLimits(min_part=5, max_part=100, max_parts=1000, max_object=10**9)


def assemble(sizes: list[int], part_size: int, limits: PartLimits = TINY
             ) -> list[tuple[int, bytes]]:
    """Run pieces of ``sizes`` (bytes labelled by piece) through layout + assembler."""
    pieces = [bytes([65 + i % 26]) * n for i, n in enumerate(sizes)]
    assembler = Assembler(len(sizes), part_size, limits)
    sent: list[tuple[int, bytes]] = []
    for i, data in enumerate(pieces):
        layout = layout_piece(i, len(sizes), len(data), part_size, limits)
        own = [(n, data[a:b + 1]) for n, a, b in layout.parts]
        sent += own
        sent += assembler.add(i, data[:layout.kept],
                              [PartInfo(n, len(d), "e") for n, d in own])
    sent += assembler.finish()
    return sent


@settings(max_examples=400, deadline=None)
@given(sizes=st.lists(st.integers(0, 400), min_size=1, max_size=30),
       part_size=st.integers(5, 40))
def test_the_parts_rebuild_the_pieces_in_order_within_the_rules(sizes, part_size):
    sent = assemble(sizes, part_size)
    numbers = [n for n, _ in sent]
    assert len(set(numbers)) == len(numbers)  # no number used twice
    ordered = [d for _, d in sorted(sent)]
    expected = b"".join(bytes([65 + i % 26]) * n for i, n in enumerate(sizes))
    assert b"".join(ordered) == expected
    assert all(TINY.min_part <= len(d) for d in ordered[:-1])
    assert all(len(d) <= TINY.max_part for d in ordered)
    assert max(numbers) <= TINY.max_parts


def test_large_pieces_upload_all_but_their_head():
    layout = layout_piece(2, 4, 60, 20, TINY)  # span 250: numbers 501..750
    assert layout.kept == 5
    assert layout.parts == ((502, 5, 24), (503, 25, 44), (504, 45, 59))


def test_small_pieces_are_kept_whole_and_joined_to_the_next_head():
    sent = assemble([3, 3, 30], part_size=20)
    by_number = dict(sent)
    span = 1000 // 3
    assert by_number[2 * span + 1] == b"A" * 3 + b"B" * 3 + b"C" * 5  # joined: 11 bytes
    assert sorted(by_number) == [2 * span + 1, 2 * span + 2, 2 * span + 3]


def test_an_empty_object_is_one_empty_part():
    assert assemble([0, 0], part_size=20) == [(501, b"")]


def test_pieces_must_come_in_order_and_all_of_them():
    assembler = Assembler(2, 20, TINY)
    with pytest.raises(ValueError, match="piece 1 given before piece 0"):
        list(assembler.add(1, b"x", []))
    list(assembler.add(0, b"x", []))
    with pytest.raises(ValueError, match="1 piece"):
        list(assembler.finish())


def test_limits_on_pieces_and_piece_size():
    with pytest.raises(ConfigurationError, match="repartition to fewer"):
        layout_piece(0, 1001, 10, 5, TINY)
    with pytest.raises(TooManyPartsError, match="more, smaller partitions"):
        layout_piece(0, 500, 1000, 5, TINY)  # span 2: one part of at most 100 bytes
