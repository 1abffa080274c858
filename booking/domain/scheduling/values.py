"""The engine's frozen dataclasses: hours, exceptions, busy ranges and rooms in, slots out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import NamedTuple

from booking.domain.scheduling.dst import get_zone, require_aware


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """A practitioner's recurring hours at a location on one weekday (0 = Monday)."""

    practitioner_id: int
    location_id: int
    weekday: int
    start_time: time
    end_time: time
    valid_from: date | None = None  # inclusive
    valid_until: date | None = None  # inclusive

    def valid_on(self, day: date) -> bool:
        """Return whether these hours apply on local `day`. Raises nothing."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True, slots=True)
class ScheduleException:
    """A dated change to hours; no times means the whole day.

    A closure or holiday with only `location_id` applies to everyone there; with neither id it
    is clinic-wide. Extra hours need a practitioner; without `location_id` they apply at any
    location the engine is asked about.
    """

    kind: str
    on_date: date
    practitioner_id: int | None = None
    location_id: int | None = None
    start_time: time | None = None
    end_time: time | None = None


@dataclass(frozen=True, slots=True)
class BusyRange:
    """An occupied range (live appointment or hold) of a practitioner and/or a room place.

    A hold (`is_hold`) whose `hold_expires_at` is at or before `now` is ignored; any other
    range blocks whatever its `hold_expires_at` says (only holds expire). A room range with no
    place counts as place 1.
    """

    practitioner_id: int | None
    room_id: int | None
    room_place: int | None
    busy_from: datetime
    busy_until: datetime
    hold_expires_at: datetime | None = None
    is_hold: bool = False


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """A room and how many sessions it takes at once."""

    room_id: int
    location_id: int
    kind: str
    capacity: int
    sort_order: int = 0


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable time: the session `[starts_at, ends_at)` and its busy range, all aware UTC."""

    starts_at: datetime
    ends_at: datetime
    busy_from: datetime
    busy_until: datetime
    practitioner_id: int
    room_id: int | None
    room_place: int | None

    def local_start(self, zone: str) -> datetime:
        """Return the start in the IANA zone `zone`. Raises InvalidInput for an unknown zone."""
        return self.starts_at.astimezone(get_zone(zone))

    def label(self, zone: str, *, with_date: bool = False) -> str:
        """Return the start as shown to people, e.g. `09:00 GMT`.

        Raises InvalidInput for an unknown zone.
        """
        return local_label(self.starts_at, zone, with_date=with_date)


class AppointmentSpan(NamedTuple):
    """An existing appointment, as `appointments_outside_hours` reads it (a plain tuple works)."""

    appointment_id: int
    practitioner_id: int
    location_id: int
    starts_at: datetime
    ends_at: datetime


def local_label(instant: datetime, zone: str, *, with_date: bool = False) -> str:
    """Return an instant as shown to people in `zone`: `09:00 GMT` or `Sun 29 Mar 2026, 09:00 BST`.

    The zone abbreviation is always shown, so the repeated autumn hour reads `01:30 BST` and
    `01:30 GMT`. Raises InvalidInput for a naive instant or an unknown zone.
    """
    local = require_aware(instant, "instant").astimezone(get_zone(zone))
    clock = f"{local:%H:%M} {local.tzname()}"
    if not with_date:
        return clock
    return f"{local:%a} {local.day} {local:%b %Y}, {clock}"
