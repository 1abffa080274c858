"""Holding a time for a browser and booking the hold (security.md §1, domain.md §2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Select, and_, func, select, update

from booking.domain.errors import HoldExpired, NotFound, SlotTaken
from booking.domain.scheduling.assignment import least_booked_practitioner
from booking.domain.scheduling.dst import day_bounds
from booking.domain.scheduling.values import AppointmentSpan, Slot
from booking.extensions import db
from booking.models import (
    LIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    BookingSource,
    Location,
    PatientProfile,
    User,
)
from booking.services.booking.availability import AvailabilityQuery, find_slots, validate_start
from booking.services.booking.emails import record_booking
from booking.services.booking.guard import (
    appointment_at,
    expired_hold_scopes,
    guarded_write,
    holds_exist,
    insert_live,
    release_holds,
)
from booking.services.booking.stamp_locks import appointment_scopes, lock_row_stamps, lock_stamps
from booking.services.platform.tokens import new_token, token_hash

HOLD_CAP = timedelta(minutes=30)


@dataclass(frozen=True)
class Booked:
    appointment: Appointment
    manage_token: str | None  # None when this browser had already booked it


def _pick_practitioner(
    *, session_type_id: int, location_id: int, starts_at: datetime, now: datetime, zone: ZoneInfo
) -> int:
    """For "no preference": whoever is free with the fewest booked minutes that day."""
    day = starts_at.astimezone(zone).date()
    slots = find_slots(
        AvailabilityQuery(
            session_type_id=session_type_id,
            location_id=location_id,
            date_from=day,
            date_to=day,
            practitioner_id=None,
        ),
        now=now,
    )
    free = sorted({s.practitioner_id for s in slots if s.starts_at == starts_at})
    if not free:
        raise SlotTaken("That time has just been taken.")
    day_start, day_end = day_bounds(day, zone)
    booked = db.session.execute(
        select(
            Appointment.id,
            Appointment.practitioner_id,
            Appointment.location_id,
            Appointment.starts_at,
            Appointment.ends_at,
        ).where(
            Appointment.practitioner_id.in_(free),
            Appointment.status.in_([s for s in LIVE_STATUSES if s != AppointmentStatus.held]),
            Appointment.starts_at < day_end,
            Appointment.ends_at > day_start,
        )
    ).all()
    return least_booked_practitioner(free, [AppointmentSpan(*row) for row in booked], day, zone)


def hold_slot(
    *,
    session_type_id: int,
    location_id: int,
    practitioner_id: int | None,
    starts_at: datetime,
    hold_owner: str,
    now: datetime,
    hold_minutes: int = 10,
    override_limits: bool = False,
) -> Appointment:
    """Hold a start for this browser for `hold_minutes`; its previous hold is released.

    `override_limits` (staff booking on a patient's behalf, who record why at booking)
    skips notice and horizon, never hours or overlaps.
    Raises SlotTaken when someone else holds or booked it (the race is decided here),
    PolicyRefused or InvalidInput when the time is not bookable at all.
    """
    location = db.session.get(Location, location_id)
    if location is None:
        raise NotFound("That place does not exist.")
    if practitioner_id is None:
        practitioner_id = _pick_practitioner(
            session_type_id=session_type_id,
            location_id=location_id,
            starts_at=starts_at,
            now=now,
            zone=location.zone,
        )

    def pick() -> tuple[int, Slot]:
        return location_id, validate_start(
            session_type_id=session_type_id,
            location_id=location_id,
            practitioner_id=practitioner_id,
            starts_at=starts_at,
            now=now,
            ignore_hold_owner=hold_owner,
            override_limits=override_limits,
        )

    fields: dict[str, Any] = {
        "status": AppointmentStatus.held,
        "session_type_id": session_type_id,
        "source": BookingSource.online,
        "hold_owner": hold_owner,
        "hold_created_at": now,
        "hold_expires_at": now + timedelta(minutes=hold_minutes),
    }
    first = None
    # (The read replaces the release's DELETE for a browser with no hold: a first hold runs
    # no more statements than before, issue 22.)
    if holds_exist(hold_owner):
        # Releasing the browser's hold bumps its practitioner's and room's stamps, the new
        # hold its own: two browsers re-holding into each other's rooms (or practitioners)
        # would deadlock on them (PostgreSQL). The pick ignores the hold, so all are locked
        # first, in one order, and the hold released after. A first hold's insert locks its own.
        first_location, slot = pick()
        expired = expired_hold_scopes(
            [(practitioner_id, slot.room_id, slot.busy_from, slot.busy_until)], now=now
        )
        lock_stamps(
            [*appointment_scopes(practitioner_id, slot.room_id), *expired], hold_owner=hold_owner
        )
        release_holds(hold_owner)
        first = appointment_at(slot, practitioner_id, first_location, now=now, **fields)
    return insert_live(
        pick,
        practitioner_id=practitioner_id,
        now=now,
        first=first,
        stamps_locked=first is not None,
        **fields,
    )


def extend_hold(
    *, hold_id: int, hold_owner: str, now: datetime, hold_minutes: int = 10
) -> Appointment:
    """Give the hold `hold_minutes` more, never past 30 minutes after it was made."""
    hold = db.session.get(Appointment, hold_id)
    if hold is None or hold.hold_owner != hold_owner or hold.status != AppointmentStatus.held:
        raise HoldExpired("We are no longer holding that time.")
    if hold.hold_expires_at is None or hold.hold_created_at is None or hold.hold_expires_at <= now:
        raise HoldExpired("We are no longer holding that time.")
    cap = hold.hold_created_at + HOLD_CAP
    hold.hold_expires_at = min(
        cap, max(hold.hold_expires_at, now + timedelta(minutes=hold_minutes))
    )
    hold.updated_at = now
    return hold


def current_hold(hold_owner: str) -> Appointment | None:
    """This browser's hold, live or expired."""
    return db.session.scalar(
        select(Appointment).where(
            Appointment.hold_owner == hold_owner, Appointment.status == AppointmentStatus.held
        )
    )


def is_first_visit(patient_id: int) -> bool:
    """True while the patient has no booked, attended or completed session at all."""
    return not db.session.scalar(earlier_visits(patient_id))


def earlier_visits(patient_id: int) -> Select[int]:
    """How many booked, attended or completed sessions the patient has (`is_first_visit`)."""
    return select(func.count(Appointment.id)).where(
        Appointment.patient_id == patient_id,
        Appointment.status.in_(
            [
                AppointmentStatus.booked,
                AppointmentStatus.checked_in,
                AppointmentStatus.completed,
            ]
        ),
    )


def book_hold(
    *,
    hold_id: int | None,
    hold_owner: str,
    retake: dict[str, Any],
    patient: PatientProfile,
    now: datetime,
    base_url: str,
    clinic_name: str,
    actor: User | None = None,
    source: BookingSource = BookingSource.online,
    override_limits: bool = False,
    detail: str | None = None,
    secret: str = "",
) -> Booked:
    """Turn this browser's hold into a booking, with its confirmation email, atomically.

    The guarded UPDATE only books a live, unexpired hold of this owner. When the hold has
    expired the time is taken again through the same guard if still free (`retake` holds
    session_type_id, location_id, practitioner_id and starts_at); otherwise HoldExpired.
    A repeated confirm returns the booking already made. Staff booking on a patient's
    behalf pass `source`, `actor`, `override_limits` (for the retake) and `detail` (the
    audit row's note, e.g. the override's reason).
    """
    token = new_token()
    existing = db.session.get(Appointment, hold_id) if hold_id is not None else None
    if (
        existing is not None
        and existing.hold_owner == hold_owner
        and existing.status != AppointmentStatus.held
        and existing.patient_id == patient.id
    ):
        return Booked(existing, None)
    values = {
        "status": AppointmentStatus.booked,
        "patient_id": patient.id,
        "booked_at": now,
        "manage_token_hash": token_hash(token),
        "is_first_visit": is_first_visit(patient.id),
        "source": source,
        "updated_at": now,
        # Only holds expire: a booking with an expiry left set would be offered again.
        "hold_expires_at": None,
    }
    updated = 0
    if hold_id is not None:
        if existing is not None and existing.status == AppointmentStatus.held:
            # Its stamps before its UPDATE, as any change of a live row (stamp_locks.py): a
            # writer of an overlapping row would otherwise wait for the written row while
            # this confirm's trigger waited for that writer's stamps (a deadlock, refused
            # here as a taken time: the patient would lose the time they held).
            lock_row_stamps(existing)
        with guarded_write():
            result = db.session.execute(
                update(Appointment)
                .where(
                    and_(
                        Appointment.id == hold_id,
                        Appointment.hold_owner == hold_owner,
                        Appointment.status == AppointmentStatus.held,
                        Appointment.hold_expires_at > now,
                    )
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            updated = cast(CursorResult[Any], result).rowcount  # DML answers a CursorResult
    if not updated:
        try:
            hold = hold_slot(
                session_type_id=retake["session_type_id"],
                location_id=retake["location_id"],
                practitioner_id=retake["practitioner_id"],
                starts_at=retake["starts_at"],
                hold_owner=hold_owner,
                now=now,
                override_limits=override_limits,
            )
        except SlotTaken:
            raise HoldExpired("We are no longer holding that time.") from None
        hold_id = hold.id
        with guarded_write():
            db.session.execute(
                update(Appointment)
                .where(Appointment.id == hold_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
    appointment = db.session.get_one(Appointment, hold_id)
    db.session.refresh(appointment)
    record_booking(
        appointment,
        manage_token=token,
        actor=actor,
        now=now,
        base_url=base_url,
        clinic_name=clinic_name,
        detail=detail,
        secret=secret,
    )
    return Booked(appointment, token)
