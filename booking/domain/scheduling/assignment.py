"""Who gets a "no preference" booking (domain.md §3): fewest booked minutes that day, then id."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from booking.domain.errors import InvalidInput
from booking.domain.scheduling.dst import day_bounds, get_zone, require_aware
from booking.domain.scheduling.values import AppointmentSpan


def least_booked_practitioner(
    candidates: Iterable[int],
    booked: Iterable[AppointmentSpan],
    day: date,
    zone: str | ZoneInfo,
) -> int:
    """Return the candidate with the fewest booked minutes on local `day`, then the lowest id.

    `booked` holds the sessions that count (booked, checked in, completed; never holds or
    cancelled rows) at any location; only the minutes of each session inside the local day
    count. Raises InvalidInput for no candidates, an unknown zone or a naive time.
    """
    zone_info = get_zone(zone) if isinstance(zone, str) else zone
    day_start, day_end = day_bounds(day, zone_info)
    minutes: dict[int, float] = dict.fromkeys(candidates, 0.0)
    if not minutes:
        raise InvalidInput("Nobody is free at that time.", field="practitioner_id")
    for _id, pid, _location_id, starts_at, ends_at in booked:
        start = max(require_aware(starts_at, "starts_at"), day_start)
        end = min(require_aware(ends_at, "ends_at"), day_end)
        if pid in minutes and end > start:
            minutes[pid] += (end - start) / timedelta(minutes=1)
    return min(minutes, key=lambda pid: (minutes[pid], pid))
