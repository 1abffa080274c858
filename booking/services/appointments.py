"""Holding, booking, moving and cancelling sessions (security.md §1, domain.md §2, §5).

Every path to a live row goes through the database guards; these functions validate
first for a clear message, then let the guard decide races.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from booking.extensions import db
from booking.models import (
    LIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    BookingSource,
    Clinic,
    LateCancelMode,
    Location,
    PatientProfile,
    User,
)
from booking.scheduling import AppointmentSpan, Slot, least_booked_practitioner
from booking.scheduling.dst import local_day_bounds
from booking.scheduling.errors import HoldExpired, NotFound, PolicyRefused, SlotTaken
from booking.services import outbox
from booking.services.audit import record_event
from booking.services.availability import AvailabilityQuery, find_slots, validate_start
from booking.services.calendar import appointment_ics

HOLD_CAP = timedelta(minutes=30)
CHANGE_GRACE = timedelta(minutes=15)
OVERLAP_MARKER = "appointment_overlap_"
EXCLUSION_VIOLATION = "23P01"


@dataclass(frozen=True)
class Booked:
    appointment: Appointment
    manage_token: str | None  # None when this browser had already booked it


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def overlap_kind(error: IntegrityError) -> str | None:
    """'practitioner', 'room' or 'patient' when the overlap guard refused a write."""
    orig: Any = error.orig
    if getattr(orig, "sqlstate", None) == EXCLUSION_VIOLATION:
        name = getattr(getattr(orig, "diag", None), "constraint_name", "") or ""
        return name.removeprefix("appointment_no_overlap_") or "practitioner"
    text = str(orig)
    if OVERLAP_MARKER in text:
        return text.split(OVERLAP_MARKER, 1)[1].split()[0].strip("'\"")
    return None


@contextmanager
def guarded_write() -> Iterator[None]:
    """Make the writes of the block in a savepoint; an overlap refusal becomes SlotTaken.

    The savepoint opens before the block runs because opening it flushes pending work,
    which must not escape the guard.
    """
    savepoint = db.session.begin_nested()
    try:
        yield
        db.session.flush()
    except IntegrityError as error:
        savepoint.rollback()
        kind = overlap_kind(error)
        if kind is None:
            raise
        raise SlotTaken("That time has just been taken.", code=f"taken_{kind}") from None
    savepoint.commit()


def policy_for(location: Location) -> tuple[Clinic, int]:
    """The clinic row and the location's effective cancellation cut-off in hours."""
    clinic = db.session.scalar(select(Clinic).order_by(Clinic.id).limit(1))
    if clinic is None:
        raise NotFound("The clinic has not been set up.")
    cutoff = location.cancellation_cutoff_hours
    return clinic, clinic.cancellation_cutoff_hours if cutoff is None else cutoff


def _clear_expired_holds(
    *, practitioner_id: int, room_id: int | None, start: datetime, end: datetime, now: datetime
) -> None:
    """Delete expired holds that would block this range: the database cannot read the clock."""
    scope = Appointment.practitioner_id == practitioner_id
    if room_id is not None:
        scope = or_(scope, Appointment.room_id == room_id)
    db.session.execute(
        delete(Appointment)
        .where(
            Appointment.status == AppointmentStatus.held,
            Appointment.hold_expires_at <= now,
            scope,
            Appointment.busy_from < end,
            Appointment.busy_until > start,
        )
        .execution_options(synchronize_session=False)
    )


def _release_holds(hold_owner: str) -> None:
    # "fetch" drops the deleted holds from the session too: SQLite may reuse a deleted row's
    # id for the next insert, which would clash with a stale object in the identity map.
    db.session.execute(
        delete(Appointment)
        .where(Appointment.hold_owner == hold_owner, Appointment.status == AppointmentStatus.held)
        .execution_options(synchronize_session="fetch")
    )


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
    day_start, day_end = local_day_bounds(day, zone)
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
) -> Appointment:
    """Hold a start for this browser for `hold_minutes`; its previous hold is released.

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
            zone=ZoneInfo(location.timezone),
        )
    _release_holds(hold_owner)

    def pick() -> tuple[int, Slot]:
        return location_id, validate_start(
            session_type_id=session_type_id,
            location_id=location_id,
            practitioner_id=practitioner_id,
            starts_at=starts_at,
            now=now,
            ignore_hold_owner=hold_owner,
        )

    return insert_live(
        pick,
        practitioner_id=practitioner_id,
        now=now,
        status=AppointmentStatus.held,
        session_type_id=session_type_id,
        source=BookingSource.online,
        hold_owner=hold_owner,
        hold_created_at=now,
        hold_expires_at=now + timedelta(minutes=hold_minutes),
    )


def insert_live(
    pick: Callable[[], tuple[int, Slot]], *, practitioner_id: int, now: datetime, **fields: Any
) -> Appointment:
    """Insert a hold or booking on the slot `pick` validates, under the overlap guards.

    `pick` returns (location_id, slot) and is called again for one retry when a concurrent
    writer took the same room place on PostgreSQL; any other refusal is raised (SlotTaken).
    """
    for attempt in range(2):
        location_id, slot = pick()
        _clear_expired_holds(
            practitioner_id=practitioner_id,
            room_id=slot.room_id,
            start=slot.busy_from,
            end=slot.busy_until,
            now=now,
        )
        row = Appointment(
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            busy_from=slot.busy_from,
            busy_until=slot.busy_until,
            practitioner_id=practitioner_id,
            location_id=location_id,
            room_id=slot.room_id,
            room_place=slot.room_place,
            ics_uid=f"{uuid.uuid4()}@meridian",
            created_at=now,
            updated_at=now,
            **fields,
        )
        try:
            with guarded_write():
                db.session.add(row)
        except SlotTaken as taken:
            if taken.code == "taken_room" and attempt == 0:
                continue
            raise
        return row
    raise SlotTaken("That time has just been taken.")  # pragma: no cover - loop returns


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
    earlier = db.session.scalar(
        select(func.count(Appointment.id)).where(
            Appointment.patient_id == patient_id,
            Appointment.status.in_(
                [
                    AppointmentStatus.booked,
                    AppointmentStatus.checked_in,
                    AppointmentStatus.completed,
                ]
            ),
        )
    )
    return not earlier


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
) -> Booked:
    """Turn this browser's hold into a booking, with its confirmation email, atomically.

    The guarded UPDATE only books a live, unexpired hold of this owner. When the hold has
    expired the time is taken again through the same guard if still free (`retake` holds
    session_type_id, location_id, practitioner_id and starts_at); otherwise HoldExpired.
    A repeated confirm returns the booking already made.
    """
    token = secrets.token_urlsafe(32)
    if hold_id is not None:
        existing = db.session.get(Appointment, hold_id)
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
    }
    updated = 0
    if hold_id is not None:
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
    queue_patient_email(
        appointment,
        kind="confirmation",
        manage_token=token,
        base_url=base_url,
        clinic_name=clinic_name,
        now=now,
    )
    record_event(
        "appointment.book",
        actor=actor,
        now=now,
        object_type="appointment",
        object_id=appointment.id,
        patient_id=patient.id,
    )
    return Booked(appointment, token)


def change_deadline(appointment: Appointment, cutoff_hours: int) -> datetime:
    return appointment.starts_at - timedelta(hours=cutoff_hours)


def is_late(appointment: Appointment, *, cutoff_hours: int, now: datetime) -> bool:
    """Inside the cut-off, except in the 15 minutes after booking (never late)."""
    if appointment.booked_at is not None and now - appointment.booked_at <= CHANGE_GRACE:
        return False
    return now >= change_deadline(appointment, cutoff_hours)


def _check_patient_may_change(appointment: Appointment, *, now: datetime) -> bool:
    """Raise PolicyRefused if the patient must phone; return whether the change is late."""
    if appointment.status != AppointmentStatus.booked:
        raise PolicyRefused("This session can no longer be changed online.")
    if appointment.starts_at <= now:
        raise PolicyRefused("This session has already started.")
    clinic, cutoff = policy_for(appointment.location)
    late = is_late(appointment, cutoff_hours=cutoff, now=now)
    if late and clinic.late_cancel_mode == LateCancelMode.call:
        raise PolicyRefused(
            f"It is too late to change this session online. Call {appointment.location.phone}.",
            code="call_clinic",
        )
    return late


def cancel_appointment(
    appointment: Appointment,
    *,
    now: datetime,
    actor: User | None,
    by_staff: bool,
    reason: str | None,
    base_url: str,
    clinic_name: str,
) -> Appointment:
    """Cancel a booked session and queue a METHOD:CANCEL email.

    Patients are held to the cut-off (PolicyRefused in `call` mode, `late_cancel` in
    `record` mode); staff may cancel any time. Cancelling twice changes nothing.
    """
    if appointment.status == AppointmentStatus.cancelled:
        return appointment
    late = False
    if by_staff:
        if appointment.status not in (AppointmentStatus.booked, AppointmentStatus.checked_in):
            raise PolicyRefused("Only booked sessions can be cancelled.")
    else:
        late = _check_patient_may_change(appointment, now=now)
    appointment.status = AppointmentStatus.cancelled
    appointment.cancelled_at = now
    appointment.cancel_reason = (reason or "")[:500] or None
    appointment.late_cancel = late
    appointment.ics_sequence += 1
    appointment.updated_at = now
    queue_patient_email(
        appointment,
        kind="cancellation",
        manage_token=None,
        base_url=base_url,
        clinic_name=clinic_name,
        now=now,
    )
    record_event(
        "appointment.cancel",
        actor=actor,
        now=now,
        object_type="appointment",
        object_id=appointment.id,
        patient_id=appointment.patient_id,
        detail="late" if late else None,
    )
    return appointment


def reschedule_appointment(
    appointment: Appointment,
    *,
    starts_at: datetime,
    hold_owner: str,
    now: datetime,
    actor: User | None,
    by_staff: bool,
    base_url: str,
    clinic_name: str,
) -> Appointment:
    """Move a booking to a new start with the same practitioner, in one transaction.

    The browser's hold on the new time is deleted and the original row updated, so the
    old time is never released before the new one is secured. Raises SlotTaken if the
    new time is not free, PolicyRefused inside the cut-off in `call` mode.
    """
    late = False if by_staff else _check_patient_may_change(appointment, now=now)
    _release_holds(hold_owner)
    slot = validate_start(
        session_type_id=appointment.session_type_id,
        location_id=appointment.location_id,
        practitioner_id=appointment.practitioner_id,
        starts_at=starts_at,
        now=now,
        ignore_appointment_id=appointment.id,
    )
    _clear_expired_holds(
        practitioner_id=appointment.practitioner_id,
        room_id=slot.room_id,
        start=slot.busy_from,
        end=slot.busy_until,
        now=now,
    )
    with guarded_write():
        appointment.starts_at = slot.starts_at
        appointment.ends_at = slot.ends_at
        appointment.busy_from = slot.busy_from
        appointment.busy_until = slot.busy_until
        appointment.room_id = slot.room_id
        appointment.room_place = slot.room_place
        appointment.ics_sequence += 1
        appointment.late_cancel = appointment.late_cancel or late
        appointment.updated_at = now
    queue_patient_email(
        appointment,
        kind="change",
        manage_token=None,
        base_url=base_url,
        clinic_name=clinic_name,
        now=now,
    )
    record_event(
        "appointment.reschedule",
        actor=actor,
        now=now,
        object_type="appointment",
        object_id=appointment.id,
        patient_id=appointment.patient_id,
    )
    return appointment


def by_manage_token(token: str, *, now: datetime) -> Appointment:
    """The appointment a manage link points to, while the session has not ended."""
    if not token or len(token) > 100:
        raise NotFound("This link has expired or is not valid.")
    appointment = db.session.scalar(
        select(Appointment).where(Appointment.manage_token_hash == token_hash(token))
    )
    if appointment is None or appointment.ends_at <= now:
        raise NotFound("This link has expired or is not valid.")
    return appointment


SUBJECTS = {
    "confirmation": "Your session is booked",
    "change": "Your session has changed",
    "cancellation": "Your session is cancelled",
}


def queue_patient_email(
    appointment: Appointment,
    *,
    kind: str,
    manage_token: str | None,
    base_url: str,
    clinic_name: str,
    now: datetime,
) -> None:
    """Queue the patient's email; only time, place, practitioner and session type."""
    from booking.templating import format_date, format_time

    patient = appointment.patient
    if patient is None:
        return
    zone = ZoneInfo(appointment.location.timezone)
    start = appointment.starts_at.astimezone(zone)
    place = appointment.location.name
    when = f"{format_date(start)} at {format_time(start)} ({place} time, {start.tzname()})"
    lines = {
        "confirmation": f"Your {appointment.session_type.name} is booked for {when}.",
        "change": f"Your {appointment.session_type.name} has moved to {when}.",
        "cancellation": f"Your {appointment.session_type.name} on {when} is cancelled.",
    }
    body = [
        f"Hello {patient.given_name},",
        "",
        lines[kind],
        f"Practitioner: {appointment.practitioner.display_name}",
        f"Place: {appointment.location.name}, {appointment.location.address}",
        "",
    ]
    if manage_token:
        body += ["Change or cancel online:", f"{base_url.rstrip('/')}/manage/{manage_token}", ""]
    body += [f"Questions? Call {appointment.location.phone}.", "", clinic_name]
    method = "CANCEL" if kind == "cancellation" else "REQUEST"
    outbox.enqueue(
        kind=f"appointment.{kind}",
        recipient=patient.email,
        subject=f"{SUBJECTS[kind]} – {clinic_name}",
        body_text="\n".join(body),
        dedupe_key=f"appointment:{appointment.id}:{kind}:{appointment.ics_sequence}",
        now=now,
        ics=appointment_ics(appointment, clinic_name=clinic_name, method=method, now=now),
        ics_method=method,
    )
