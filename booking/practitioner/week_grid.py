"""The week view's grid as the page shows it: each cell's classes, label and sessions' words,
worked out once in Python.

The template used to work each of ~50 sessions out itself (two macro calls, zone
conversions and filters) and each of ~80 cells (a date formatted twice, three look-ups):
most of the week view's CPU after its queries (issue 22). The template only places these.

Every text here is plain; the template's autoescaping escapes each once. They were escaped
here first (`Markup`), for a template with autoescaping off; with it on, Jinja copied each
Markup into a new one as it wrote it out, more CPU than escaping the strings (issue 22).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from booking.domain.formatting import format_date, format_time
from booking.domain.scheduling.day_plan import hour_state
from booking.services.booking.practitioner_calendar import CalendarDays, WeekRow

STATUS_WORDS = {
    "booked": "Booked",
    "checked_in": "Checked in",
    "completed": "Completed",
    "no_show": "No-show",
    "cancelled": "Cancelled",
    "held": "Held",
}


@dataclass(slots=True)
class WeekSession:
    """One session's words in the grid."""

    href: str  # the day view, at this session
    time: str
    name: str
    session: str
    first_visit: bool
    plan: str | None  # "session k of N" in a treatment plan
    place: str
    status: str
    intake: str
    flags: str


@dataclass(slots=True)
class WeekCell:
    """One day's hour."""

    classes: str  # added to the cell's own
    label: str | None  # data-label, on cells with sessions or words
    sessions: list[WeekSession]
    words: str


def _session(
    a: WeekRow,
    href: str,
    note: Mapping[str, Any],
    seq: tuple[int, int, int] | None,
    times: dict[tuple[datetime, datetime, str], str],
) -> WeekSession:
    key = (a.starts_at, a.ends_at, a.timezone)
    time = times.get(key)
    if time is None:
        zone = ZoneInfo(a.timezone)
        time = times[key] = (
            f"{format_time(a.starts_at.astimezone(zone))} to "
            f"{format_time(a.ends_at.astimezone(zone))}"
        )
    return WeekSession(
        href=f"{href}#session-{a.id}",
        time=time,
        name="Held" if a.patient_name is None else a.patient_name,
        session=a.session_type_name,
        first_visit=a.is_first_visit,
        plan=None if seq is None else f"session {seq[0]} of {seq[1]}",
        place=a.location_name if a.room_name is None else f"{a.location_name}, {a.room_name}",
        status=STATUS_WORDS[a.status.value],
        intake=note["intake"],
        flags=", ".join(note["flags"]) if note["flags"] else "none",
    )


def week_grid(
    calendar: CalendarDays[WeekRow],
    *,
    hour_labels: Mapping[int, str],
    day_urls: Mapping[date, str],
    notes: Mapping[int, Mapping[str, Any]],
    sequences: Mapping[int, tuple[int, int, int]],
) -> list[tuple[str, list[WeekCell]]]:
    """(hour label, a cell per day) for each of the calendar's hour rows."""
    day_words = {d: format_date(d) for d in calendar.days}
    times: dict[tuple[datetime, datetime, str], str] = {}
    grid = []
    for hour in calendar.hours:
        cells = []
        for d in calendar.days:
            state, words = hour_state(calendar.plans[d], hour)
            sessions = [
                _session(a, day_urls[d], notes[a.id], sequences.get(a.id), times)
                for a in calendar.by_cell.get((d, hour), [])
            ]
            classes = " meridian-cal-state--off" if state != "open" and not sessions else ""
            if not sessions and not words:
                classes += " meridian-cal-empty"
            label = f"{day_words[d]}, {hour_labels[hour]}" if sessions or words else None
            cells.append(WeekCell(classes, label, sessions, words))
        grid.append((hour_labels[hour], cells))
    return grid
