"""Sessions booked, read and listed through the JSON API, scoped by the token's user.

API bookings skip the hold: after the expired-hold cleanup the row is inserted as `booked`
inside the overlap guard (security.md §1), with its confirmation email and audit row in the
same transaction. Receptionists act on every calendar, practitioners on their own; admins
do not book (domain.md §6). By patient id, a practitioner books only a patient she already
treats (`patient_to_book`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select, union

from booking.domain.errors import NotAllowed, NotFound, SlotTaken
from booking.domain.scheduling.values import Slot
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    BookingSource,
    Clinic,
    ExceptionKind,
    Location,
    PatientProfile,
    Practitioner,
    Role,
    ScheduleException,
    SessionType,
    User,
    WorkingHours,
)
from booking.services.booking.availability import AvailabilityQuery, validate_start
from booking.services.booking.availability_cache import Stamp, read_stamp
from booking.services.booking.emails import PatientEmail, compose_patient_email, record_booking
from booking.services.booking.guard import appointment_at, expired_holds_probe, insert_live
from booking.services.booking.holds import Booked, earlier_visits, is_first_visit
from booking.services.clinic import care
from booking.services.platform.tokens import new_token, token_hash


def own_practitioner_id(actor: User) -> int | None:
    """The practitioner row of a practitioner's account (None for other roles)."""
    return care.practitioner_id_of(actor)


def patient_to_book(patient_id: int, *, actor: User) -> PatientProfile | None:
    """An existing patient the actor may book by id; None when missing or not theirs.

    Receptionists book anyone. A practitioner books by id only a patient she already treats
    (`care.treats`): otherwise booking then cancelling would open a stranger's record. Both
    refusals are None so the caller answers as for an unknown id, revealing nothing.
    """
    patient = db.session.get(PatientProfile, patient_id)
    if patient is None or actor.role == Role.receptionist:
        return patient
    own = own_practitioner_id(actor)
    if own is None or not care.treats(own, patient_id):
        return None
    return patient


def check_may_manage(actor: User, practitioner_id: int | None = None) -> None:
    """Refuse anyone but a receptionist, or a practitioner acting on their own calendar.

    Raises NotAllowed.
    """
    if actor.role == Role.receptionist:
        return
    if actor.role == Role.practitioner:
        if practitioner_id is not None and own_practitioner_id(actor) != practitioner_id:
            raise NotAllowed("Practitioners can only act on their own calendar.")
        return
    raise NotAllowed("Only receptionists and practitioners can manage sessions.")


def working_location_ids(practitioner_id: int) -> list[int]:
    """Active locations where the practitioner has weekly or extra hours, by id."""
    hours = select(WorkingHours.location_id).where(WorkingHours.practitioner_id == practitioner_id)
    extra = select(ScheduleException.location_id).where(
        ScheduleException.practitioner_id == practitioner_id,
        ScheduleException.kind == ExceptionKind.extra_hours,
        ScheduleException.location_id.is_not(None),
    )
    where = union(hours, extra).subquery()
    return list(
        db.session.scalars(
            select(Location.id)
            .where(Location.id.in_(select(where.c[0])), Location.is_active.is_(True))
            .order_by(Location.id)
        )
    )


def _checked_slot(
    *,
    session_type_id: int,
    practitioner_id: int,
    location_ids: list[int],
    starts_at: datetime,
    now: datetime,
) -> tuple[int, Slot]:
    """The first location whose hours hold the start; its refusal if none does."""
    refusal: SlotTaken | None = None
    for location_id in location_ids:
        try:
            slot = validate_start(
                session_type_id=session_type_id,
                location_id=location_id,
                practitioner_id=practitioner_id,
                starts_at=starts_at,
                now=now,
            )
        except SlotTaken as error:
            # Outside hours here may be inside hours at the practitioner's other location.
            if refusal is None or refusal.code == "outside_hours":
                refusal = error
            continue
        return location_id, slot
    raise refusal or SlotTaken(
        "That time is outside the practitioner's hours.", code="outside_hours"
    )


def book_directly(
    *,
    session_type_id: int,
    practitioner_id: int,
    starts_at: datetime,
    patient: PatientProfile,
    actor: User,
    now: datetime,
    base_url: str,
    clinic_name: str | None = None,
    clinic_default: str = "",
    location_id: int | None = None,
    start_writes: Callable[[], object] | None = None,
) -> Booked:
    """Book a free start for a patient at once (no hold), with email and audit rows.

    Without `location_id` the location is the one whose hours hold the start.
    Without `clinic_name` the email names the clinic as its row does (else `clinic_default`),
    read only when the slot is free, with the email's practitioner, location and type rows
    (one query; a refused time is answered without them).
    `start_writes`, for a caller that has only read so far (SQLite's deferred read
    transaction, db_hooks.begin_writes), is called after the checks, before the first write:
    the slot is then checked again unless the availability stamps of its practitioner,
    location, rooms and clinic are unchanged. The overlap guards decide races either way.
    Raises NotAllowed (role or another practitioner's calendar), NotFound, InvalidInput,
    PolicyRefused (notice, horizon) and SlotTaken (not free, or lost to a concurrent writer).
    """
    check_may_manage(actor, practitioner_id)

    def check_practitioner() -> None:
        if db.session.get(Practitioner, practitioner_id) is None:
            raise NotFound("That practitioner does not exist.")

    if location_id is None:
        check_practitioner()
        candidates = working_location_ids(practitioner_id)
    else:
        candidates = [location_id]

    def pick() -> tuple[int, Slot]:
        return _checked_slot(
            session_type_id=session_type_id,
            practitioner_id=practitioner_id,
            location_ids=candidates,
            starts_at=starts_at,
            now=now,
        )

    if location_id is None:
        picked = pick()
    else:
        # The practitioner's row is read only for a free time (with the email's other rows):
        # the slot check has read that she exists and is active. A refusal of a practitioner
        # who does not exist still names her first, whatever else the check found missing.
        try:
            picked = pick()
        except NotFound:
            check_practitioner()
            raise
    practitioner, location, session_type, clinic = _email_rows(
        practitioner_id, picked[0], session_type_id
    )
    if clinic_name is None:
        clinic_name = (clinic.name if clinic is not None else None) or clinic_default
    # Expired holds in the range (`expired_holds_block`) and the patient's earlier visits
    # (`is_first_visit`), in one query.
    holds_expired, earlier = db.session.execute(
        select(
            expired_holds_probe(
                practitioner_id=practitioner_id,
                room_id=picked[1].room_id,
                start=picked[1].busy_from,
                end=picked[1].busy_until,
                now=now,
            ),
            earlier_visits(patient.id).scalar_subquery(),
        )
    ).one()
    holds_expired = bool(holds_expired)
    manage_token = new_token()
    fields: dict[str, Any] = {
        "status": AppointmentStatus.booked,
        "patient_id": patient.id,
        "session_type_id": session_type_id,
        "source": BookingSource.api,
        "booked_at": now,
        "manage_token_hash": token_hash(manage_token),
        "ics_sequence": 0,
    }

    def confirmation(row: Appointment) -> PatientEmail | None:
        return compose_patient_email(
            row,
            kind="confirmation",
            manage_token=manage_token,
            base_url=base_url,
            clinic_name=clinic_name,
            now=now,
            fresh=True,
            clinic=clinic,
        )

    # The row and its confirmation are made before any write (on SQLite outside the write
    # lock), from the checked slot; the email needs the row's relationships set to render.
    first_visit = not earlier
    row = appointment_at(
        picked[1], practitioner_id, picked[0], now=now, is_first_visit=first_visit, **fields
    )
    row.practitioner = practitioner
    row.location = location
    row.session_type = session_type
    row.patient = patient
    composed = confirmation(row)
    first: Appointment | None = row
    if start_writes is not None:
        facts = _slot_facts(session_type_id, practitioner_id, picked[0])
        start_writes()
        if _slot_facts(session_type_id, practitioner_id, picked[0]) != facts:
            # What the checks read has changed since: check again, and clean up as before.
            first, holds_expired = None, True
        # Counted again inside the write transaction, as the insert is made.
        counted = is_first_visit(patient.id)
        if counted != first_visit:
            first_visit, composed = counted, None
            if first is not None:
                first.is_first_visit = counted
    appointment = insert_live(
        pick,
        first=first,
        clear_holds=holds_expired,
        practitioner_id=practitioner_id,
        now=now,
        is_first_visit=first_visit,
        **fields,
    )
    if appointment is not first or composed is None:
        composed = confirmation(appointment)
    record_booking(
        appointment,
        manage_token=manage_token,
        actor=actor,
        now=now,
        base_url=base_url,
        clinic_name=clinic_name,
        detail="api",
        composed=composed,
    )
    return Booked(appointment, manage_token)


def _email_rows(
    practitioner_id: int, location_id: int, session_type_id: int
) -> tuple[Practitioner, Location, SessionType, Clinic | None]:
    """The rows a booking's email names, and the clinic's (`get_clinic`'s: the first), in
    one query (the slot check has just read that the first three exist)."""
    first_clinic = select(Clinic.id).order_by(Clinic.id).limit(1).scalar_subquery()
    found = db.session.execute(
        select(Practitioner, Location, SessionType, Clinic)
        .select_from(Practitioner)
        .join(Location, Location.id == location_id)
        .join(SessionType, SessionType.id == session_type_id)
        .outerjoin(Clinic, Clinic.id == first_clinic)
        .where(Practitioner.id == practitioner_id)
    ).first()
    if found is None:  # removed since the check (PostgreSQL reads committed rows)
        raise NotFound("That practitioner, place or session type no longer exists.")
    practitioner, location, session_type, clinic = found
    return practitioner, location, session_type, clinic


def _slot_facts(session_type_id: int, practitioner_id: int, location_id: int) -> Stamp:
    """The availability stamps (one query) of everything a slot check there reads."""
    return read_stamp(
        AvailabilityQuery(
            session_type_id=session_type_id,
            location_id=location_id,
            date_from=date.min,
            date_to=date.min,
            practitioner_id=practitioner_id,
        )
    )


def get_for_actor(appointment_id: int, *, actor: User) -> Appointment:
    """A booked (not held) appointment the actor may see.

    Raises NotAllowed for roles that do not manage sessions and NotFound for a missing
    appointment, a hold, or another practitioner's session.
    """
    check_may_manage(actor)
    appointment = db.session.get(Appointment, appointment_id)
    own = own_practitioner_id(actor)
    if (
        appointment is None
        or appointment.status == AppointmentStatus.held
        or (actor.role == Role.practitioner and appointment.practitioner_id != own)
    ):
        raise NotFound("That appointment does not exist.")
    return appointment


def list_for_actor(
    *,
    actor: User,
    starts_from: datetime,
    starts_before: datetime,
    practitioner_id: int | None,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[Appointment]:
    """Sessions (holds excluded) starting in [starts_from, starts_before), by (start, id).

    `after` is the (start, id) of the last row already returned (keyset pagination). A
    practitioner sees only their own calendar. Raises NotAllowed.
    """
    check_may_manage(actor, practitioner_id)
    own = own_practitioner_id(actor)
    query = select(Appointment).where(
        Appointment.status != AppointmentStatus.held,
        Appointment.starts_at >= starts_from,
        Appointment.starts_at < starts_before,
    )
    who = own if own is not None else practitioner_id
    if who is not None:
        query = query.where(Appointment.practitioner_id == who)
    if after is not None:
        start, last_id = after
        query = query.where(
            or_(
                Appointment.starts_at > start,
                and_(Appointment.starts_at == start, Appointment.id > last_id),
            )
        )
    return list(
        db.session.scalars(query.order_by(Appointment.starts_at, Appointment.id).limit(limit))
    )
