"""The demo practitioner's current week, fuller (issue 15): something to see in her calendar.

Mei Lin Chen (who signs in as the demo practitioner) gets up to two more follow-ups on each
of her working days this week, Monday to Friday (two a day across her locations), with
patients she already sees. Those before
now are completed, except today's: they stay booked, waiting for her to mark them completed or
a no-show from the day view. Later ones pass every booking rule. Same engine checks and overlap
guards as the rest of the demo (`_insert`); a time that does not fit is skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from booking.demo.context import FOLLOW_UP, DemoContext, DemoPatient
from booking.demo.sessions import _insert, grid_starts
from booking.models import AppointmentStatus

HOME = "mei.chen"
ATTENDED = (AppointmentStatus.booked, AppointmentStatus.checked_in, AppointmentStatus.completed)
PER_DAY = 2


def fill_demo_practitioner_week(context: DemoContext, patients: list[DemoPatient]) -> int:
    """Add Mei Lin Chen's extra sessions this week; return how many were added."""
    regulars = [p for p in patients if p.home == HOME and p.rows and not p.account]
    if not regulars:
        return 0
    practitioner = context.practitioners[HOME]
    session_type = context.types[FOLLOW_UP]
    length = timedelta(minutes=session_type.duration_minutes)
    now, rng = context.now, context.rng
    added = 0
    # Every demo location shares London's date, so any location's today gives the week.
    monday_offset = -context.today[min(context.today)].weekday()
    for offset in range(monday_offset, monday_offset + 5):
        placed = 0  # per day, whichever of her locations (she works at two on some days)
        for location_id, spans in context.open_on(practitioner.id, offset):
            starts = grid_starts(context, location_id, spans, session_type.duration_minutes)
            rng.shuffle(starts)
            for start in starts:
                if placed == PER_DAY:
                    break
                if offset == 0 and start < now:
                    status, override = AppointmentStatus.booked, True  # awaiting its outcome
                elif start + length <= now:
                    status, override = AppointmentStatus.completed, True
                elif start >= now + context.notice[location_id]:
                    status, override = AppointmentStatus.booked, False
                else:
                    continue
                # Someone whose first visit came earlier, so that stays their first.
                earlier = [p for p in regulars if _first_attended(p) < start]
                if not earlier:
                    continue
                patient = earlier[(added + placed) % len(earlier)]
                row = _insert(
                    context, patient, session_type, location_id, start, status, override=override
                )
                if row is not None:
                    patient.rows.append(row)
                    placed += 1
        added += placed
    return added


def _first_attended(patient: DemoPatient) -> datetime:
    attended = [r.starts_at for r in patient.rows if r.status in ATTENDED]
    return min(attended, default=datetime.max.replace(tzinfo=UTC))
