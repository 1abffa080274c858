"""Weekly hours checked as a set, and the sessions a change of hours leaves outside them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta

from booking.domain.errors import InvalidInput
from booking.domain.scheduling.calendar import Calendar, ceil_seconds, floor_seconds
from booking.domain.scheduling.dst import get_zone, require_aware
from booking.domain.scheduling.intervals import merge
from booking.domain.scheduling.values import ScheduleException, WeeklyHours

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def validate_weekly_hours(hours: Iterable[WeeklyHours]) -> list[str]:
    """Return a message per problem in a set of weekly hours; an empty list means valid.

    Finds start not before end, weekdays outside 0–6, validity ending before it begins, and
    intervals of one practitioner on the same weekday that overlap while both are valid, across
    locations too (touching is fine). Raises nothing.
    """
    problems: list[str] = []
    by_key: dict[tuple[int, int], list[WeeklyHours]] = defaultdict(list)
    ordered = sorted(
        hours,
        key=lambda h: (h.practitioner_id, h.weekday, h.start_time, h.end_time, h.location_id),
    )
    for item in ordered:
        where = f"practitioner {item.practitioner_id}, location {item.location_id}"
        if not 0 <= item.weekday <= 6:
            problems.append(f"{where}: weekday {item.weekday} is not 0 (Monday) to 6 (Sunday).")
            continue
        day = WEEKDAY_NAMES[item.weekday]
        if item.start_time >= item.end_time:
            problems.append(
                f"{where}, {day}: {_hhmm(item.start_time)} must be before {_hhmm(item.end_time)}."
            )
            continue
        if item.valid_from and item.valid_until and item.valid_until < item.valid_from:
            problems.append(f"{where}, {day}: valid until is before valid from.")
            continue
        by_key[item.practitioner_id, item.weekday].append(item)
    for (pid, weekday), items in by_key.items():
        for i, a in enumerate(items):
            for b in items[i + 1 :]:
                if b.start_time >= a.end_time:
                    break
                if validity_overlaps(a, b):
                    problems.append(
                        f"Practitioner {pid}, {WEEKDAY_NAMES[weekday]}: "
                        f"{_hhmm(a.start_time)}–{_hhmm(a.end_time)} at location {a.location_id} "
                        f"overlaps {_hhmm(b.start_time)}–{_hhmm(b.end_time)} "
                        f"at location {b.location_id}."
                    )
    return problems


def validity_overlaps(a: WeeklyHours, b: WeeklyHours) -> bool:
    """Return whether two sets of weekly hours apply on at least one common date."""
    lo = max(a.valid_from or date.min, b.valid_from or date.min)
    hi = min(a.valid_until or date.max, b.valid_until or date.max)
    return lo <= hi


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def appointments_outside_hours(
    *,
    hours: Iterable[WeeklyHours],
    exceptions: Iterable[ScheduleException],
    timezone: str | Mapping[int, str],
    appointments: Iterable[tuple[int, int, int, datetime, datetime]],
) -> list[int]:
    """Return ids of appointments whose session no longer lies inside open hours, ascending.

    Used after staff edit hours or exceptions: appointments are never moved, only listed.
    `timezone` is one zone or a map location id → zone; each item is (appointment id,
    practitioner id, location id, starts_at, ends_at). Buffers may spill outside hours.
    Raises InvalidInput for an unknown zone or location, or a naive datetime.
    """
    hours = list(hours)
    exceptions = list(exceptions)
    calendars: dict[int, Calendar] = {}
    outside: list[int] = []
    for appointment_id, pid, location_id, starts_at, ends_at in appointments:
        calendar = calendars.get(location_id)
        if calendar is None:
            if isinstance(timezone, str):
                name = timezone
            elif location_id in timezone:
                name = timezone[location_id]
            else:
                raise InvalidInput(f"No time zone for location {location_id}.", field="timezone")
            calendar = calendars[location_id] = Calendar(
                location_id, get_zone(name), hours, exceptions
            )
        start = floor_seconds(require_aware(starts_at, "starts_at"))
        end = ceil_seconds(require_aware(ends_at, "ends_at"))
        day = starts_at.astimezone(calendar.zone).date()
        # A session may run past local midnight into the next day's hours.
        spans = merge(
            calendar.open_spans(pid, day) + calendar.open_spans(pid, day + timedelta(days=1))
        )
        if not any(lo <= start and end <= hi for lo, hi in spans):
            outside.append(appointment_id)
    return sorted(outside)
