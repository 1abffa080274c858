"""Booking on a patient's behalf (front desk, or a practitioner on their own calendar).

The same engine, holds and database guards as online booking: the free times come from
`find_slots`, choosing one places a hold owned by the member of staff (`desk_hold_owner`),
and booking turns that hold into the patient's session through `book_hold` (the guarded
UPDATE, the confirmation email and the audit row). Staff may override minimum notice and
the booking horizon with a reason, recorded on the audit row; nothing overrides hours,
buffers, rooms or an overlap.
"""

from __future__ import annotations

from datetime import date, datetime

from booking.domain.errors import HoldExpired, InvalidInput
from booking.domain.scheduling.values import Slot
from booking.models import Appointment, BookingSource, PatientProfile, User
from booking.services.api.booking import check_may_manage
from booking.services.booking.availability import AvailabilityQuery, find_slots
from booking.services.booking.holds import Booked, book_hold, current_hold, hold_slot

REASON_MAX = 200


def desk_hold_owner(user_id: int) -> str:
    """The hold owner of a member of staff: one hold at a time, like a browser."""
    return f"desk:{user_id}"


def override_note(reason: str | None) -> str | None:
    """The audit note of an override, or None without one. Raises InvalidInput when the
    override was asked for (`reason` not None) but no reason given."""
    if reason is None:
        return None
    text = " ".join(reason.split())
    if not text:
        raise InvalidInput("Enter why the notice or horizon is overridden", field="reason")
    return f"staff override: {text}"[: REASON_MAX + 16]


def free_times(
    *,
    session_type_id: int,
    location_id: int,
    practitioner_id: int | None,
    day: date,
    actor: User,
    now: datetime,
    override_limits: bool,
) -> list[Slot]:
    """Free starts on local `day`; a practitioner sees only their own.

    Raises NotAllowed (another practitioner's calendar) and the engine's NotFound.
    """
    check_may_manage(actor, practitioner_id)
    return find_slots(
        AvailabilityQuery(
            session_type_id=session_type_id,
            location_id=location_id,
            date_from=day,
            date_to=day,
            practitioner_id=practitioner_id,
        ),
        now=now,
        override_limits=override_limits,
    )


def hold_for_patient(
    *,
    session_type_id: int,
    location_id: int,
    practitioner_id: int,
    starts_at: datetime,
    actor: User,
    now: datetime,
    override_limits: bool,
) -> Appointment:
    """Hold a start while the patient confirms (10 minutes); the actor's last hold goes.

    Raises NotAllowed, SlotTaken (lost the race), PolicyRefused, InvalidInput.
    """
    check_may_manage(actor, practitioner_id)
    return hold_slot(
        session_type_id=session_type_id,
        location_id=location_id,
        practitioner_id=practitioner_id,
        starts_at=starts_at,
        hold_owner=desk_hold_owner(actor.id),
        now=now,
        override_limits=override_limits,
    )


def held_for(actor: User, *, now: datetime) -> Appointment | None:
    """The actor's live hold, if any."""
    hold = current_hold(desk_hold_owner(actor.id))
    if hold is None or hold.hold_expires_at is None or hold.hold_expires_at <= now:
        return None
    return hold


def book_for_patient(
    patient: PatientProfile,
    *,
    actor: User,
    now: datetime,
    base_url: str,
    clinic_name: str,
    override_reason: str | None,
) -> Booked:
    """Book the actor's hold for `patient`: source `staff`, the confirmation emailed.

    Raises HoldExpired (no hold, or lost it and the time was taken), InvalidInput (an
    override without a reason).
    """
    note = override_note(override_reason)
    owner = desk_hold_owner(actor.id)
    hold = current_hold(owner)
    if hold is None:
        raise HoldExpired("We are no longer holding that time.")
    check_may_manage(actor, hold.practitioner_id)
    return book_hold(
        hold_id=hold.id,
        hold_owner=owner,
        retake={
            "session_type_id": hold.session_type_id,
            "location_id": hold.location_id,
            "practitioner_id": hold.practitioner_id,
            "starts_at": hold.starts_at,
        },
        patient=patient,
        now=now,
        base_url=base_url,
        clinic_name=clinic_name,
        actor=actor,
        source=BookingSource.staff,
        override_limits=note is not None,
        detail=note or "staff",
    )
