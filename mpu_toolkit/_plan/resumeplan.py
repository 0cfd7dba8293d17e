"""Which parts of an interrupted upload can serve a local file: pure functions, no I/O.

ListParts tells each stored part's number, size and ETag, not where its bytes came from.
The layout is rebuilt from the sizes: the unbroken run of parts 1, 2, 3 ... gives exact
offsets (whatever part-size policy wrote them); after the first missing number the rest of
the file is laid out in parts of the size the stored parts used. A stored part is a
*candidate* when its number and size match the layout; the caller keeps it only if its
ETag is the MD5 of the local bytes at that place, and re-sends every other part.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from ..errors import TooManyPartsError
from ..model import PartInfo
from .sizing import S3_LIMITS, PartLimits, for_known_size

__all__ = ["ResumeStep", "plan_resume"]


@dataclass(frozen=True)
class ResumeStep:
    """Part ``number`` holds local bytes ``offset .. offset+size``; ``stored`` is the part
    already on the server at that number and size, if any (still to be verified)."""

    number: int
    offset: int
    size: int
    stored: PartInfo | None = None


def plan_resume(stored: Sequence[PartInfo], total: int, part_size: int,
                limits: PartLimits = S3_LIMITS) -> list[ResumeStep]:
    """Lay a local file of ``total`` bytes over the ``stored`` parts of an upload.

    ``part_size`` is the caller's preferred size, used when the stored parts do not show
    one (nothing stored, or only a short last part).
    """
    by_number = {p.number: p for p in stored}
    steps: list[ResumeStep] = []
    offset, number = 0, 1
    while number in by_number and offset < total:  # the unbroken run: exact offsets
        part = by_number[number]
        fits = part.size <= total - offset and (part.size >= limits.min_part
                                                or offset + part.size == total)
        if not fits:
            break
        steps.append(ResumeStep(number, offset, part.size, part))
        offset, number = offset + part.size, number + 1
    step = _stored_part_size(stored, limits) or for_known_size(total, part_size, limits
                                                                 ).part_size(1)
    left = total - offset
    if number - 1 + math.ceil(left / step) > limits.max_parts:
        step = for_known_size(left, step, limits).part_size(1)  # re-lay the rest, larger
        if number - 1 + math.ceil(left / step) > limits.max_parts:
            raise TooManyPartsError(f"the stored parts leave {left:,} bytes for "
                                    f"{limits.max_parts - number + 1} parts: start a new "
                                    "upload (resume=False)")
    while offset < total or number == 1:  # number == 1: an empty file is one empty part
        size = min(step, total - offset)
        candidate = by_number.get(number)
        steps.append(ResumeStep(number, offset, size,
                                candidate if candidate and candidate.size == size else None))
        offset, number = offset + size, number + 1
        if total == 0:
            break
    return steps


def _stored_part_size(stored: Sequence[PartInfo], limits: PartLimits) -> int | None:
    """The size most stored parts have (the last part is usually shorter)."""
    sizes = Counter(p.size for p in stored if limits.min_part <= p.size <= limits.max_part)
    if not sizes:
        return None
    return max(sizes.items(), key=lambda item: (item[1], item[0]))[0]
