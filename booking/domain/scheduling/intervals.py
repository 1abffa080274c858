"""Half-open interval maths: `[start, end)`, so touching intervals never overlap.

The engine works on integer UTC seconds for speed; `overlaps` also accepts datetimes and is
the Python twin of the SQL overlap test (`a.start < b.end AND b.start < a.end`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from typing import Protocol, TypeVar


class _Comparable(Protocol):
    def __lt__(self, other: object, /) -> bool: ...


T = TypeVar("T", bound=_Comparable)

Span = tuple[int, int]


def overlaps(a_start: T, a_end: T, b_start: T, b_end: T) -> bool:
    """Return whether half-open `[a_start, a_end)` and `[b_start, b_end)` share an instant.

    Touching ranges (`a_end == b_start`) do not overlap. Raises nothing.
    """
    return a_start < b_end and b_start < a_end


def merge(spans: Iterable[Span]) -> list[Span]:
    """Return the union of `spans` as sorted, disjoint, non-touching spans; empties are dropped.

    Raises nothing.
    """
    out: list[Span] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def subtract(spans: list[Span], cuts: list[Span]) -> list[Span]:
    """Return `spans` minus `cuts`; both must be sorted and disjoint (as `merge` returns).

    Raises nothing.
    """
    if not cuts:
        return spans
    out: list[Span] = []
    j = 0
    for start, end in spans:
        cur = start
        while j < len(cuts) and cuts[j][1] <= cur:
            j += 1
        k = j
        while k < len(cuts) and cuts[k][0] < end:
            cut_start, cut_end = cuts[k]
            if cut_start > cur:
                out.append((cur, cut_start))
            cur = max(cur, cut_end)
            if cur >= end:
                break
            k += 1
        if cur < end:
            out.append((cur, end))
    return out


class BlockIndex:
    """Sorted disjoint busy blocks with an O(log n) overlap test (bisect on block ends)."""

    __slots__ = ("ends", "starts")

    def __init__(self, spans: Iterable[Span]) -> None:
        merged = merge(spans)
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]

    def __len__(self) -> int:
        return len(self.starts)

    def hits(self, start: int, end: int) -> bool:
        """Return whether `[start, end)` overlaps any block. Raises nothing."""
        j = bisect_right(self.ends, start)
        return j < len(self.starts) and self.starts[j] < end
