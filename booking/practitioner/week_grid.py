"""The week view's grid as the page shows it: each cell's classes, label and sessions' words,
worked out once in Python.

The template used to work each of ~50 sessions out itself (two macro calls, zone
conversions and filters) and each of ~80 cells (a date formatted twice, three look-ups):
most of the week view's CPU after its queries (issue 22). The template only places these.

Every text here is escaped once (`Markup`); the template's autoescaping, which stays on,
passes each Markup through as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

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
    """One session's words in the grid, escaped."""

    href: Markup  # the day view, at this session
    time: Markup
    name: Markup
    session: Markup
    first_visit: bool
    plan: Markup | None  # "session k of N" in a treatment plan
    place: Markup
    status: Markup
    intake: Markup
    flags: Markup


@dataclass(slots=True)
class WeekCell:
    """One day's hour, its texts escaped."""

    classes: Markup  # added to the cell's own
    label: Markup | None  # data-label, on cells with sessions or words
    sessions: list[WeekSession]
    words: Markup


class _Escaped(dict[str, Markup]):
    """Each text escaped once per grid: most repeat (types, places, "Not working", "")."""

    def __missing__(self, text: str) -> Markup:
        self[text] = escaped = escape(text)
        return escaped


def _session(
    a: WeekRow,
    href: str,
    note: Mapping[str, Any],
    seq: tuple[int, int, int] | None,
    times: dict[tuple[datetime, datetime, str], Markup],
    esc: _Escaped,
) -> WeekSession:
    key = (a.starts_at, a.ends_at, a.timezone)
    time = times.get(key)
    if time is None:
        zone = ZoneInfo(a.timezone)
        time = times[key] = escape(
            f"{format_time(a.starts_at.astimezone(zone))} to "
            f"{format_time(a.ends_at.astimezone(zone))}"
        )
    return WeekSession(
        href=escape(f"{href}#session-{a.id}"),
        time=time,
        name=escape("Held" if a.patient_name is None else a.patient_name),
        session=esc[a.session_type_name],
        first_visit=a.is_first_visit,
        plan=None if seq is None else escape(f"session {seq[0]} of {seq[1]}"),
        place=esc[a.location_name if a.room_name is None else f"{a.location_name}, {a.room_name}"],
        status=esc[STATUS_WORDS[a.status.value]],
        intake=esc[note["intake"]],
        flags=esc[", ".join(note["flags"]) if note["flags"] else "none"],
    )


def week_grid(
    calendar: CalendarDays[WeekRow],
    *,
    hour_labels: Mapping[int, str],
    day_urls: Mapping[date, str],
    notes: Mapping[int, Mapping[str, Any]],
    sequences: Mapping[int, tuple[int, int, int]],
) -> list[tuple[Markup, list[WeekCell]]]:
    """(hour label, a cell per day) for each of the calendar's hour rows."""
    day_words = {d: format_date(d) for d in calendar.days}
    hours = {hour: escape(label) for hour, label in hour_labels.items()}
    times: dict[tuple[datetime, datetime, str], Markup] = {}
    esc = _Escaped()
    grid = []
    for hour in calendar.hours:
        cells = []
        for d in calendar.days:
            state, words = hour_state(calendar.plans[d], hour)
            sessions = [
                _session(a, day_urls[d], notes[a.id], sequences.get(a.id), times, esc)
                for a in calendar.by_cell.get((d, hour), [])
            ]
            classes = " meridian-cal-state--off" if state != "open" and not sessions else ""
            if not sessions and not words:
                classes += " meridian-cal-empty"
            label = escape(f"{day_words[d]}, {hour_labels[hour]}") if sessions or words else None
            cells.append(WeekCell(esc[classes], label, sessions, esc[words]))
        grid.append((hours[hour], cells))
    return grid
