"""Open UTC spans per practitioner and local date at one location (domain.md §3 rules 1–2).

Weekly hours and extra hours are joined, then time off, closures and holidays are cut out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.domain.errors import InvalidInput
from booking.domain.scheduling.dst import (
    SECONDS_PER_DAY,
    from_utc_seconds,
    second_of_day,
    wall_to_utc,
)
from booking.domain.scheduling.intervals import Span, merge, subtract
from booking.domain.scheduling.values import ScheduleException, WeeklyHours

EXCEPTION_KINDS = frozenset({"time_off", "extra_hours", "closure", "holiday"})


def wall_span(start: time | None, end: time | None) -> tuple[int, int]:
    # Sub-second parts round inwards so an open interval never grows.
    start_s = 0 if start is None else second_of_day(start, round_up=True)
    end_s = SECONDS_PER_DAY if end is None else second_of_day(end)
    return start_s, end_s


class Calendar:
    """Open UTC spans per (practitioner, local date) at one location (domain.md §3 rules 1–2)."""

    def __init__(
        self,
        location_id: int,
        zone: ZoneInfo,
        hours: Iterable[WeeklyHours],
        exceptions: Iterable[ScheduleException],
    ) -> None:
        self.zone = zone
        self.hours: dict[tuple[int, int], list[WeeklyHours]] = defaultdict(list)
        for item in hours:
            if item.location_id == location_id and item.start_time < item.end_time:
                self.hours[item.practitioner_id, item.weekday].append(item)
        self.extra: dict[tuple[int, date], list[tuple[int, int]]] = defaultdict(list)
        self.blocking: dict[date, list[tuple[int | None, tuple[int, int]]]] = defaultdict(list)
        for exc in exceptions:
            if exc.kind not in EXCEPTION_KINDS:
                raise InvalidInput(f"Unknown schedule exception kind {exc.kind!r}.", field="kind")
            if exc.location_id is not None and exc.location_id != location_id:
                continue
            span = wall_span(exc.start_time, exc.end_time)
            if exc.kind == "extra_hours":
                if exc.practitioner_id is not None:
                    self.extra[exc.practitioner_id, exc.on_date].append(span)
            else:
                self.blocking[exc.on_date].append((exc.practitioner_id, span))

    def _to_utc(self, ordinal: int, spans: Iterable[tuple[int, int]]) -> list[Span]:
        zone = self.zone
        return merge(
            (wall_to_utc(ordinal, start, zone, 0), wall_to_utc(ordinal, end, zone, 1))
            for start, end in spans
            if start < end
        )

    def open_spans(self, practitioner_id: int, day: date) -> list[Span]:
        """Return sorted disjoint open UTC spans of one practitioner on local `day`."""
        wall = [
            wall_span(h.start_time, h.end_time)
            for h in self.hours.get((practitioner_id, day.weekday()), ())
            if h.valid_on(day)
        ]
        wall.extend(self.extra.get((practitioner_id, day), ()))
        if not wall:
            return []
        ordinal = day.toordinal()
        spans = self._to_utc(ordinal, wall)
        blocks = [
            span
            for who, span in self.blocking.get(day, ())
            if who is None or who == practitioner_id
        ]
        # Time off, closures and holidays beat extra hours: subtracted after the union.
        if blocks:
            spans = subtract(spans, self._to_utc(ordinal, blocks))
        return spans


_EPOCH = from_utc_seconds(0)

_SECOND = timedelta(seconds=1)


def floor_seconds(value: datetime) -> int:
    return int((value - _EPOCH) // _SECOND)


def ceil_seconds(value: datetime) -> int:
    return -int((_EPOCH - value) // _SECOND)
