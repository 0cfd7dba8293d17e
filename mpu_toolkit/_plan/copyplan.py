"""Part layouts for server-side copy and compose: pure functions, no I/O.

A multipart object is a list of parts, each 5 MiB..5 GiB except the last. UploadPartCopy
turns one byte range of one existing object into one part, so:

* a large source is copied as ranges of about ``part_size``;
* sources (or leftovers) under 5 MiB cannot be parts of their own unless they come last;
  their bytes are downloaded and uploaded together with their neighbours (at most the
  5 MiB needed to reach the minimum, taken from the head of the next large source).

On a store whose parts but the last must all be one size (Cloudflare R2: the
``"equal"`` part-size policy), :func:`plan_equal` cuts the concatenation into equal parts
instead: a part within one source is copied, one across sources is uploaded (its bytes
downloaded: at most one part each).

The plan is byte-exact by construction: segments tile ``[0, total)`` in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from typing import Literal, Sequence

from ..errors import TooManyPartsError
from .sizing import S3_LIMITS, PartLimits, for_known_size, format_size

__all__ = ["Segment", "PlannedPart", "copy_ranges", "plan_compose", "plan_equal"]


@dataclass(frozen=True)
class Segment:
    """Bytes ``first..last`` (inclusive, as in HTTP ranges) of source number ``source``."""

    source: int
    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class PlannedPart:
    """One part of the result: copied server-side (one segment) or uploaded (its segments
    downloaded and concatenated)."""

    number: int
    kind: Literal["copy", "upload"]
    segments: tuple[Segment, ...]

    @property
    def size(self) -> int:
        return sum(s.size for s in self.segments)


def copy_ranges(size: int, part_size: int, limits: PartLimits = S3_LIMITS
                ) -> list[tuple[int, int]]:
    """Inclusive byte ranges to copy an object of ``size`` bytes as parts of about
    ``part_size`` (grown if 10,000 parts would not hold it); none is under the minimum
    except a lone range of a small object."""
    if size <= 0:
        return []
    step = for_known_size(size, part_size, limits).part_size(1)
    bounds = list(range(0, size, step)) + [size]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < limits.min_part:
        del bounds[-2]  # fold a short tail into the range before it
        if bounds[-1] - bounds[-2] > limits.max_part:  # only when step is near 5 GiB
            bounds.insert(-1, bounds[-2] + (bounds[-1] - bounds[-2]) // 2)
    return [(a, b - 1) for a, b in zip(bounds, bounds[1:])]


def plan_compose(sizes: Sequence[int], part_size: int, limits: PartLimits = S3_LIMITS
                 ) -> list[PlannedPart]:
    """The parts that concatenate sources of ``sizes`` into one object, copying all it can.

    Raises :class:`TooManyPartsError` when the result needs more than 10,000 parts.
    """
    planner = _Planner(part_size, limits)
    for index, size in enumerate(sizes):
        planner.add(index, size)
    return planner.finish()


def plan_equal(sizes: Sequence[int], part_size: int, limits: PartLimits = S3_LIMITS
               ) -> list[PlannedPart]:
    """The parts that concatenate sources of ``sizes`` into one object where every part but
    the last must have one size and the last be no larger: ``part_size`` bytes each (grown
    if 10,000 parts would not hold them), copied where a part lies within one source."""
    total = sum(sizes)
    if total <= 0:
        return []
    step = for_known_size(total, part_size, limits).part_size(1)
    starts = list(accumulate(sizes, initial=0))  # where each source begins in the whole
    parts, source = [], 0
    for number, first in enumerate(range(0, total, step), 1):
        end, position, segments = min(first + step, total), first, []
        while position < end:
            while starts[source + 1] <= position:  # sources that end before (or are empty)
                source += 1
            stop = min(end, starts[source + 1])
            segments.append(Segment(source, position - starts[source],
                                    stop - starts[source] - 1))
            position = stop
        parts.append(PlannedPart(number, "copy" if len(segments) == 1 else "upload",
                                 tuple(segments)))
    return parts


class _Planner:
    def __init__(self, part_size: int, limits: PartLimits) -> None:
        self.part_size, self.limits = part_size, limits
        self.parts: list[PlannedPart] = []
        self.pending: list[Segment] = []  # small pieces waiting to be uploaded together

    @property
    def pending_size(self) -> int:
        return sum(s.size for s in self.pending)

    def add(self, source: int, size: int) -> None:
        minimum, start = self.limits.min_part, 0
        if size <= 0:
            return
        if self.pending:
            need = minimum - self.pending_size
            if size - need >= minimum:  # top the small pieces up from this source's head
                self.pending.append(Segment(source, 0, need - 1))
                self._flush()
                start = need
            else:
                self.pending.append(Segment(source, 0, size - 1))
                if self.pending_size >= minimum:
                    self._flush()
                return
        if size - start < minimum:
            self.pending = [Segment(source, start, size - 1)]
            return
        for first, last in copy_ranges(size - start, self.part_size, self.limits):
            self._append("copy", (Segment(source, start + first, start + last),))

    def finish(self) -> list[PlannedPart]:
        if len(self.pending) == 1:  # the last part may be small: copy it, skip the download
            self._append("copy", tuple(self.pending))
        elif self.pending:
            self._flush()
        self.pending = []
        return self.parts

    def _flush(self) -> None:
        self._append("upload", tuple(self.pending))
        self.pending = []

    def _append(self, kind: Literal["copy", "upload"], segments: tuple[Segment, ...]) -> None:
        number = len(self.parts) + 1
        if number > self.limits.max_parts:
            raise TooManyPartsError(
                f"composing these sources needs more than {self.limits.max_parts:,} parts "
                f"with part_size={format_size(self.part_size)}: raise part_size, or compose "
                "them in groups and then compose the groups")
        self.parts.append(PlannedPart(number, kind, segments))
