"""Part-size policies (pure): limits, growth, fitted sizes, size strings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpu_toolkit.errors import ConfigurationError, TooManyPartsError
from mpu_toolkit._plan.sizing import (S3_LIMITS, FixedPartSizer, GiB, GrowingPartSizer, MiB,
                                PartLimits, TiB, capacity, for_known_size, format_size,
                                parse_size)

KiB = 1024


def all_sizes(sizer, limits: PartLimits) -> list[int]:
    return [sizer.part_size(n) for n in range(1, limits.max_parts + 1)]


def reference_capacity(initial: int, step: int, limits: PartLimits) -> int:
    """Independent model: parts of `initial` doubling every `step` parts, capped."""
    return sum(min(initial * 2 ** ((n - 1) // step), limits.max_part)
               for n in range(1, limits.max_parts + 1))


# -- GrowingPartSizer ------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(initial=st.integers(5 * MiB, 5 * GiB))
def test_growing_sizer_fits_max_object_in_part_limit(initial: int) -> None:
    sizer = GrowingPartSizer(initial)
    sizes = all_sizes(sizer, S3_LIMITS)

    assert sizes[0] == initial  # small streams keep the size they asked for
    assert all(S3_LIMITS.min_part <= s <= S3_LIMITS.max_part for s in sizes)
    assert all(a <= b for a, b in zip(sizes, sizes[1:])), "part sizes must not shrink"
    assert sum(sizes) >= 5 * TiB, "a 5 TiB stream must fit in 10,000 parts"
    assert capacity(sizer) == sum(sizes)
    assert capacity(sizer) >= S3_LIMITS.max_object
    with pytest.raises(TooManyPartsError):
        sizer.part_size(S3_LIMITS.max_parts + 1)


@settings(max_examples=25, deadline=None)
@given(initial=st.integers(5 * MiB, 5 * GiB))
def test_growing_sizer_grows_as_late_as_possible(initial: int) -> None:
    sizer = GrowingPartSizer(initial)
    # the first `step` parts are all the initial size
    assert all(sizer.part_size(n) == initial for n in range(1, sizer.step + 1))
    assert 1 <= sizer.step <= S3_LIMITS.max_parts
    assert reference_capacity(initial, sizer.step, S3_LIMITS) >= S3_LIMITS.max_object
    if sizer.step < S3_LIMITS.max_parts:  # one step later would no longer fit
        assert reference_capacity(initial, sizer.step + 1, S3_LIMITS) < S3_LIMITS.max_object


def test_growing_sizer_default_and_large_initial() -> None:
    default = GrowingPartSizer()
    assert default.part_size(1) == 16 * MiB
    big = GrowingPartSizer(1 * GiB)  # 10,000 x 1 GiB > 5 TiB: never needs to grow
    assert big.step == S3_LIMITS.max_parts
    assert big.part_size(S3_LIMITS.max_parts) == 1 * GiB


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_growing_sizer_with_small_custom_limits(data: st.DataObject) -> None:
    limits_base = PartLimits(min_part=1, max_part=1000, max_parts=5, max_object=1)
    initial = data.draw(st.integers(1, 1000), label="initial")
    reachable = reference_capacity(initial, 1, limits_base)
    max_object = data.draw(st.integers(1, reachable), label="max_object")
    limits = PartLimits(min_part=1, max_part=1000, max_parts=5, max_object=max_object)

    sizer = GrowingPartSizer(initial, limits)
    sizes = all_sizes(sizer, limits)
    assert sizes[0] == initial
    assert all(1 <= s <= 1000 for s in sizes)
    assert all(a <= b for a, b in zip(sizes, sizes[1:]))
    assert sum(sizes) >= max_object
    assert capacity(sizer) == sum(sizes)
    with pytest.raises(TooManyPartsError, match="at most 5 parts"):
        sizer.part_size(6)


# -- FixedPartSizer --------------------------------------------------------------------------

def test_fixed_sizer_refuses_part_10001() -> None:
    sizer = FixedPartSizer(5 * MiB)
    assert sizer.part_size(1) == 5 * MiB
    assert sizer.part_size(10_000) == 5 * MiB
    with pytest.raises(TooManyPartsError) as info:
        sizer.part_size(10_001)
    message = str(info.value)
    assert "10,001" in message and "10,000" in message
    assert "larger part_size" in message and "growing" in message  # says what to do
    assert isinstance(info.value, ValueError)


def test_fixed_sizer_capacity_is_parts_times_size() -> None:
    limits = PartLimits(min_part=1, max_part=1000, max_parts=5, max_object=10_000)
    assert capacity(FixedPartSizer(7, limits)) == 35
    with pytest.raises(TooManyPartsError, match="at most 5"):
        FixedPartSizer(7, limits).part_size(6)


def test_part_number_zero_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="start at 1"):
        FixedPartSizer(5 * MiB).part_size(0)


@pytest.mark.parametrize("size", [0, 1, 5 * MiB - 1, 5 * GiB + 1, -5])
@pytest.mark.parametrize("policy", [FixedPartSizer, GrowingPartSizer])
def test_out_of_range_part_size_is_a_configuration_error(policy, size: int) -> None:
    with pytest.raises(ConfigurationError, match="outside the allowed") as info:
        policy(size)
    assert "5 MiB" in str(info.value) and "5 GiB" in str(info.value)


@pytest.mark.parametrize("size", [5 * MiB, 5 * GiB])
def test_part_size_limits_are_inclusive(size: int) -> None:
    assert FixedPartSizer(size).part_size(1) == size
    assert GrowingPartSizer(size).part_size(1) == size


# -- for_known_size -------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(total=st.integers(0, 5 * TiB), preferred=st.integers(5 * MiB, 5 * GiB))
def test_for_known_size_fits(total: int, preferred: int) -> None:
    sizer = for_known_size(total, preferred)
    assert isinstance(sizer, FixedPartSizer)
    assert sizer.size * S3_LIMITS.max_parts >= total
    assert S3_LIMITS.min_part <= sizer.size <= S3_LIMITS.max_part
    assert sizer.size >= preferred


@settings(max_examples=100, deadline=None)
@given(total=st.integers(0, 5 * TiB))
def test_for_known_size_default_preference(total: int) -> None:
    sizer = for_known_size(total)
    assert sizer.size * 10_000 >= total
    assert sizer.size >= 16 * MiB
    if total <= 16 * MiB * 10_000:
        assert sizer.size == 16 * MiB  # no bigger than needed


def test_for_known_size_extremes() -> None:
    assert for_known_size(5 * TiB).size * 10_000 >= 5 * TiB
    with pytest.raises(ConfigurationError, match="exceeds"):
        for_known_size(5 * TiB + 1)
    with pytest.raises(ConfigurationError, match=">= 0"):
        for_known_size(-1)


@settings(max_examples=100, deadline=None)
@given(total=st.integers(0, 5000), preferred=st.integers(1, 1000))
def test_for_known_size_custom_limits(total: int, preferred: int) -> None:
    limits = PartLimits(min_part=1, max_part=1000, max_parts=5, max_object=5000)
    sizer = for_known_size(total, preferred, limits)
    assert sizer.limits == limits
    assert sizer.size * 5 >= total
    assert preferred <= sizer.size <= 1000
    assert capacity(sizer) >= total


# -- parse_size / format_size ----------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("16777216", 16 * MiB), ("16MiB", 16 * MiB), ("16 MiB", 16 * MiB), ("16m", 16 * MiB),
    ("16 MB", 16_000_000), ("1.5GiB", 1536 * MiB), ("  5 gib ", 5 * GiB), ("2KiB", 2048),
    ("2kb", 2000), ("1TiB", TiB), ("7b", 7), ("0", 0),
])
def test_parse_size_strings(text: str, expected: int) -> None:
    assert parse_size(text) == expected


def test_parse_size_numbers() -> None:
    assert parse_size(123) == 123
    assert parse_size(4.0) == 4


@pytest.mark.parametrize("bad", ["", "abc", "16 XiB", "-5MiB", "MiB", "1,000", "16 Mi B",
                                 True, None])
def test_parse_size_rejects_garbage(bad) -> None:
    with pytest.raises(ConfigurationError, match="part_size"):
        parse_size(bad, "part_size")


@given(n=st.integers(0, 2**53))  # exact up to 8 PiB, far beyond any S3 limit
def test_parse_size_of_decimal_string(n: int) -> None:
    assert parse_size(str(n)) == n


@given(mantissa=st.integers(0, 1023), exponent=st.integers(0, 4))
def test_format_parse_round_trip_exact(mantissa: int, exponent: int) -> None:
    n = mantissa * 1024 ** exponent
    assert parse_size(format_size(n)) == n


@given(n=st.integers(0, 1024 * TiB))
def test_format_parse_round_trip_close(n: int) -> None:
    text = format_size(n)
    assert text.split()[1] in ("B", "KiB", "MiB", "GiB", "TiB")
    assert abs(parse_size(text) - n) <= 0.05 * n + 1


@pytest.mark.parametrize("n, text", [(0, "0 B"), (1023, "1023 B"), (16 * MiB, "16 MiB"),
                                     (1536 * MiB, "1.5 GiB"), (5 * TiB, "5 TiB"),
                                     (2048 * TiB, "2048 TiB")])
def test_format_size_examples(n: int, text: str) -> None:
    assert format_size(n) == text
