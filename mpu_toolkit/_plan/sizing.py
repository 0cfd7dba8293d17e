"""Part-size policies: which size part number *n* gets.

Pure functions and small frozen classes, no I/O. Three policies:

* :func:`for_known_size` — the total is known: one size that fits in the part limit.
* :class:`GrowingPartSizer` — the total is unknown: parts start small and double every
  ``step`` parts, with ``step`` chosen so that 10,000 parts hold at least 5 TiB.
* :class:`FixedPartSizer` — every part the same size (stores such as Cloudflare R2 need
  equal parts); the stream is refused at the part limit with a clear error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ..errors import ConfigurationError, TooManyPartsError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB

__all__ = ["PartLimits", "S3_LIMITS", "PartSizer", "FixedPartSizer", "GrowingPartSizer",
           "for_known_size", "parse_size", "format_size", "counted", "capacity", "MiB", "GiB",
           "TiB"]


@dataclass(frozen=True)
class PartLimits:
    """The store's multipart rules. ``S3_LIMITS`` is AWS S3's (and most compatibles')."""

    min_part: int = 5 * MiB
    max_part: int = 5 * GiB
    max_parts: int = 10_000
    max_object: int = 5 * TiB

    def check_part_size(self, size: int, what: str = "part_size") -> int:
        if not self.min_part <= size <= self.max_part:
            raise ConfigurationError(
                f"{what}={size:,} bytes is outside the allowed {format_size(self.min_part)}.."
                f"{format_size(self.max_part)}: choose a size in range")
        return size

    def check_part_number(self, number: int) -> int:
        if number > self.max_parts:
            raise TooManyPartsError(
                f"the stream needs part {number:,} but S3 allows at most {self.max_parts:,} "
                "parts per object: use a larger part_size, or the growing part-size policy")
        if number < 1:
            raise ConfigurationError(f"part numbers start at 1, got {number}")
        return number


S3_LIMITS = PartLimits()


@runtime_checkable
class PartSizer(Protocol):
    """A part-size policy: the size of each part, by 1-based part number."""

    @property
    def limits(self) -> PartLimits:
        """The store's rules the sizes respect."""
        ...

    def part_size(self, number: int) -> int:
        """Size of part ``number``; raises :class:`TooManyPartsError` past the limit."""
        ...


@dataclass(frozen=True)
class FixedPartSizer:
    """Every part ``size`` bytes (the last may be shorter)."""

    size: int
    limits: PartLimits = S3_LIMITS

    def __post_init__(self) -> None:
        self.limits.check_part_size(self.size)

    def part_size(self, number: int) -> int:
        self.limits.check_part_number(number)
        return self.size


@dataclass(frozen=True)
class GrowingPartSizer:
    """Parts of ``initial`` bytes, doubling every ``step`` parts up to the part maximum.

    ``step`` is the largest that still lets ``limits.max_parts`` parts hold
    ``limits.max_object`` bytes, so small and medium streams keep small parts (and small
    memory) while a stream of the maximum object size still fits.
    """

    initial: int = 16 * MiB
    limits: PartLimits = S3_LIMITS

    step: int = field(init=False, default=0)  # derived from initial and limits

    def __post_init__(self) -> None:
        self.limits.check_part_size(self.initial, "part_size")
        object.__setattr__(self, "step", _largest_step(self.initial, self.limits))

    def part_size(self, number: int) -> int:
        self.limits.check_part_number(number)
        return _grown(self.initial, (number - 1) // self.step, self.limits.max_part)


def _grown(initial: int, doublings: int, cap: int) -> int:
    if doublings >= 63:
        return cap
    return min(initial << doublings, cap)


def _capacity_with_step(initial: int, step: int, limits: PartLimits) -> int:
    total, number = 0, 0
    while number < limits.max_parts:
        count = min(step, limits.max_parts - number)
        total += count * _grown(initial, number // step, limits.max_part)
        number += count
    return total


def _largest_step(initial: int, limits: PartLimits) -> int:
    """Binary search: capacity falls as the step grows (parts double later)."""
    if _capacity_with_step(initial, limits.max_parts, limits) >= limits.max_object:
        return limits.max_parts  # fixed size already suffices
    lo, hi = 1, limits.max_parts  # capacity(lo) is the largest possible
    if _capacity_with_step(initial, lo, limits) < limits.max_object:
        return lo  # cannot reach max_object at all; grow as fast as possible
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _capacity_with_step(initial, mid, limits) >= limits.max_object:
            lo = mid
        else:
            hi = mid - 1
    return lo


def capacity(sizer: PartSizer) -> int:
    """The largest object the policy can hold within the part-count limit."""
    if isinstance(sizer, GrowingPartSizer):
        return _capacity_with_step(sizer.initial, sizer.step, sizer.limits)
    return sum(sizer.part_size(n) for n in range(1, sizer.limits.max_parts + 1))


def for_known_size(total: int, preferred: int = 16 * MiB,
                   limits: PartLimits = S3_LIMITS) -> FixedPartSizer:
    """Equal parts for an object of ``total`` bytes: ``preferred`` unless more is needed.

    The size is rounded up to a whole MiB (when the limits allow) so parts stay aligned.
    """
    if total < 0:
        raise ConfigurationError(f"size must be >= 0, got {total}")
    if total > limits.max_part * limits.max_parts or total > limits.max_object:
        raise ConfigurationError(
            f"size={total:,} bytes exceeds the largest object S3 accepts "
            f"({format_size(min(limits.max_object, limits.max_part * limits.max_parts))})")
    needed = math.ceil(total / limits.max_parts) if total else 0
    size = max(preferred, limits.min_part, needed)
    if size % MiB and size > MiB:
        size = min(math.ceil(size / MiB) * MiB, limits.max_part)
    return FixedPartSizer(min(size, limits.max_part), limits)


_UNITS = {"": 1, "b": 1, "k": KiB, "kb": 1000, "kib": KiB, "m": MiB, "mb": 1000**2,
          "mib": MiB, "g": GiB, "gb": 1000**3, "gib": GiB, "t": TiB, "tb": 1000**4, "tib": TiB}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(value: int | str, what: str = "size") -> int:
    """``16777216``, ``"16MiB"``, ``"16 MB"`` (decimal) or ``"1.5GiB"`` → bytes."""
    if isinstance(value, bool):
        raise ConfigurationError(f"{what} must be a number of bytes or a string like '16MiB'")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    match = _SIZE_RE.match(str(value))
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise ConfigurationError(
            f"{what}={value!r} is not a size: use bytes (16777216) or a string like '16MiB'")
    number, scale = match.group(1), _UNITS[unit]
    return int(number) * scale if number.isdigit() else int(float(number) * scale)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 part``, ``3 parts``, ``10,000 uploads``: a count with its noun agreeing."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def format_size(n: float) -> str:
    """Binary units, as people read them: ``16 MiB``, ``1.5 GiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" or float(n).is_integer() else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover
