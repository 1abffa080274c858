"""What a practitioner's calendar shows for each day besides sessions: hours, time off, closures.

Pure: weekly hours and exceptions in, per-day wall-clock summaries out (local times at each
location, as the rota pages enter them). The calendar pages turn an hour row into words with
`hour_state`, so "not working", "time off" and "closed" are text, never colour alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time

from booking.domain.scheduling.values import ScheduleException, WeeklyHours

OPEN, OFF, TIME_OFF, CLOSED = "open", "off", "time_off", "closed"
BLOCK_WORDS = {"time_off": "Time off", "closure": "Closed", "holiday": "Holiday"}
DEFAULT_ROWS = (8, 18)  # first hour row and the hour after the last


@dataclass(frozen=True, slots=True)
class Span:
    """A wall-clock span on one day; `start`/`end` None mean the start/end of the day."""

    label: str
    start: time | None
    end: time | None

    def covers_hour(self, hour: int) -> bool:
        """Whether this span overlaps [hour:00, hour+1:00)."""
        start = _minutes(self.start, 0)
        end = _minutes(self.end, 24 * 60)
        return start < (hour + 1) * 60 and end > hour * 60


@dataclass(frozen=True, slots=True)
class DayPlan:
    day: date
    open: tuple[Span, ...] = field(default=())  # label: the location's name
    blocks: tuple[Span, ...] = field(default=())  # label: "Time off", "Closed: Dublin", ...

    @property
    def working(self) -> bool:
        return bool(self.open)


def plan_days(
    days: Iterable[date],
    *,
    practitioner_id: int,
    hours: Iterable[WeeklyHours],
    exceptions: Iterable[ScheduleException],
    location_names: Mapping[int, str],
) -> dict[date, DayPlan]:
    """One DayPlan per day: open spans (weekly hours valid that day, extra hours) and blocks.

    Blocks are this practitioner's time off and the closures or holidays of the clinic or of a
    location where they work that day (any weekly hours there). Raises nothing.
    """
    hours = list(hours)
    exceptions = list(exceptions)
    plans: dict[date, DayPlan] = {}
    for day in days:
        weekly = [h for h in hours if h.weekday == day.weekday() and h.valid_on(day)]
        here = {h.location_id for h in weekly}
        opened = [
            Span(location_names.get(h.location_id, ""), h.start_time, h.end_time) for h in weekly
        ]
        blocks: list[Span] = []
        for exc in exceptions:
            if exc.on_date != day:
                continue
            if exc.kind == "extra_hours" and exc.practitioner_id == practitioner_id:
                name = location_names.get(exc.location_id or 0, "")
                opened.append(Span(name or "Extra hours", exc.start_time, exc.end_time))
                here.add(exc.location_id or 0)
            elif exc.kind == "time_off" and exc.practitioner_id in (practitioner_id, None):
                blocks.append(Span(BLOCK_WORDS["time_off"], exc.start_time, exc.end_time))
        for exc in exceptions:
            if exc.on_date != day or exc.kind not in ("closure", "holiday"):
                continue
            if exc.practitioner_id not in (None, practitioner_id):
                continue
            if exc.location_id is not None and exc.location_id not in here:
                continue
            word = BLOCK_WORDS[exc.kind]
            place = location_names.get(exc.location_id or 0)
            blocks.append(Span(f"{word}: {place}" if place else word, exc.start_time, exc.end_time))
        plans[day] = DayPlan(
            day,
            tuple(sorted(opened, key=_order)),
            tuple(sorted(blocks, key=_order)),
        )
    return plans


def hour_state(plan: DayPlan, hour: int) -> tuple[str, str]:
    """(state, words) for the hour row starting at `hour`: blocks win over open hours."""
    for block in plan.blocks:
        if block.covers_hour(hour):
            state = CLOSED if not block.label.startswith("Time off") else TIME_OFF
            return state, block.label
    if any(span.covers_hour(hour) for span in plan.open):
        return OPEN, ""
    return OFF, "Not working"


def hour_rows(plans: Iterable[DayPlan], session_hours: Iterable[int]) -> list[int]:
    """The hour rows a week or day grid needs: 8am to 6pm widened to every open span and session."""
    first, stop = DEFAULT_ROWS
    for plan in plans:
        for span in plan.open:
            first = min(first, _minutes(span.start, 0) // 60)
            stop = max(stop, -(-_minutes(span.end, 24 * 60) // 60))
    for hour in session_hours:
        first, stop = min(first, hour), max(stop, hour + 1)
    return list(range(first, stop))


def _minutes(value: time | None, default: int) -> int:
    return default if value is None else value.hour * 60 + value.minute


def _order(span: Span) -> tuple[int, str]:
    return _minutes(span.start, 0), span.label
