"""Today's arrivals for the front desk (issue 15): follow-ups booked by phone this morning.

After the planned sessions are placed, each practitioner working today gets up to
`PER_PRACTITIONER` follow-ups later today with patients on a course (an attended session
behind them, none today), so the receptionist's day sheet has people to check in. They are
booked as the desk books: the engine's check of hours, rooms and overlaps, with the staff
override of the minimum notice (booked by phone at `now`), under the overlap guards.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from booking.demo.context import FOLLOW_UP, DemoContext, DemoPatient
from booking.demo.sessions import grid_starts
from booking.domain.errors import InvalidInput, PolicyRefused, SlotTaken
from booking.domain.scheduling.dst import day_bounds, local_today
from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, BookingSource, Location
from booking.services.booking.availability import validate_start
from booking.services.booking.guard import insert_live
from booking.services.platform.tokens import new_token, token_hash

PER_PRACTITIONER = 2
ATTENDED = (AppointmentStatus.completed, AppointmentStatus.checked_in)


def book_arrivals(context: DemoContext, patients: list[DemoPatient]) -> int:
    """Book today's arrivals; how many were booked (0 when nobody works later today)."""
    now, follow_up = context.now, context.types[FOLLOW_UP]
    free = [
        p
        for p in patients
        if not p.account
        and any(r.status in ATTENDED and r.starts_at < now for r in p.rows)
        and not any(
            r.starts_at.astimezone(context.zones[r.location_id]).date()
            == context.today[r.location_id]
            for r in p.rows
        )
    ]
    booked = 0
    for _home, practitioner in sorted(context.practitioners.items()):
        for location_id, spans in context.open_on(practitioner.id, 0):
            if "treatment" not in context.room_kinds[location_id]:
                continue
            starts = [
                start
                for start in grid_starts(context, location_id, spans, follow_up.duration_minutes)
                if start >= now + timedelta(minutes=30)
            ]
            placed = 0
            for start in starts[::3]:  # spread through the rest of the day
                if placed == PER_PRACTITIONER or not free:
                    break
                row = _book(context, free[0], practitioner.id, location_id, start)
                if row is not None:
                    free[0].rows.append(row)
                    free.pop(0)
                    placed += 1
            booked += placed
            if placed:
                break
    return booked


def _book(
    context: DemoContext, patient: DemoPatient, practitioner_id: int, location_id: int, start: Any
) -> Appointment | None:
    session_type = context.types[FOLLOW_UP]

    def pick() -> tuple[int, Any]:
        return location_id, validate_start(
            session_type_id=session_type.id,
            location_id=location_id,
            practitioner_id=practitioner_id,
            starts_at=start,
            now=context.now,
            override_limits=True,  # booked by phone this morning, inside the notice
        )

    try:
        return insert_live(
            pick,
            practitioner_id=practitioner_id,
            now=context.now,
            status=AppointmentStatus.booked,
            patient_id=patient.profile.id,
            session_type_id=session_type.id,
            source=BookingSource.staff,
            booked_at=context.now,
            manage_token_hash=token_hash(new_token()),
            is_first_visit=False,
        )
    except (SlotTaken, PolicyRefused, InvalidInput):
        return None


def arrivals_today(now: Any) -> int:
    """Booked sessions still to come today at every active location (for `seed-demo`)."""
    total = 0
    for location in db.session.scalars(select(Location).where(Location.is_active.is_(True))):
        start, end = day_bounds(local_today(location.zone, now=now), location.zone)
        total += (
            db.session.scalar(
                select(func.count(Appointment.id)).where(
                    Appointment.location_id == location.id,
                    Appointment.status == AppointmentStatus.booked,
                    Appointment.starts_at >= max(start, now),
                    Appointment.starts_at < end,
                )
            )
            or 0
        )
    return total
