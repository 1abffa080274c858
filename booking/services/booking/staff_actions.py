"""Staff changes to one appointment: the practitioner calendar and the front desk share these.

Every function takes the appointment (found with `staff_appointment`, which scopes it to one
practitioner's calendar when asked), the acting `User` and `now` (aware UTC); it flushes,
never commits, writes one audit event and, where the patient should know (cancel,
reschedule), queues the patient's email with an updated .ics (same UID, SEQUENCE + 1). A
refusal is a domain error with a stable `code` and a message fit to show:

- `check_in` / `undo_check_in`: booked <-> checked_in; `not_today` off the session's
  local day.
- `mark_completed`: booked or checked_in -> completed; `not_started` before `starts_at`.
- `mark_no_show`: booked -> no_show; `not_started` before `starts_at`.
- `undo_outcome`: completed or no_show -> booked; `undo_too_late` after the session's local
  day; SlotTaken if the freed time was given away meanwhile.
- `staff_cancel`: booked or checked_in -> cancelled; InvalidInput (field `reason`) without one.
- `staff_reschedule`: booked, to a new start; InvalidInput (field `override_reason`) for a
  blank override reason; the engine's PolicyRefused (`too_soon`, `too_far_ahead`), SlotTaken.
- `free_times`: the engine's free starts on one local day for the change-time form.

Any other status is PolicyRefused `wrong_status`. "Local day" is the calendar date at the
appointment's location. Audit actions are `appointment.<name>`: check_in, undo_check_in,
complete, no_show, undo_outcome, cancel, reschedule. A cancel reason is stored on the
appointment (`cancel_reason`); an override reason on the reschedule's audit row (`detail`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.domain.errors import InvalidInput, NotFound, PolicyRefused
from booking.domain.scheduling.dst import local_today
from booking.domain.scheduling.values import Slot
from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, User
from booking.services.booking.availability import AvailabilityQuery, find_slots
from booking.services.booking.changes import cancel_appointment, reschedule_appointment
from booking.services.booking.guard import guarded_write
from booking.services.booking.stamp_locks import lock_appointments, lock_row_stamps
from booking.services.platform.audit import record_event

REASON_MAX = 500

_S = AppointmentStatus


def staff_appointment(appointment_id: int, *, practitioner_id: int | None = None) -> Appointment:
    """The booked (or once booked) appointment `appointment_id`, with what pages show loaded.

    With `practitioner_id` (a practitioner acting on their own calendar) another
    practitioner's appointment is not found. Holds are never found. Raises NotFound.
    """
    query = (
        select(Appointment)
        .where(Appointment.id == appointment_id, Appointment.status != _S.held)
        .options(
            selectinload(Appointment.patient),
            selectinload(Appointment.session_type),
            selectinload(Appointment.location),
            selectinload(Appointment.room),
            selectinload(Appointment.practitioner),
        )
    )
    if practitioner_id is not None:
        query = query.where(Appointment.practitioner_id == practitioner_id)
    appointment = db.session.scalar(query)
    if appointment is None:
        raise NotFound("That session was not found.")
    return appointment


def session_day(appointment: Appointment) -> date:
    """The appointment's local date at its location."""
    return appointment.starts_at.astimezone(appointment.location.zone).date()


def is_session_day(appointment: Appointment, *, now: datetime) -> bool:
    return local_today(appointment.location.zone, now=now) == session_day(appointment)


def check_in(appointment: Appointment, *, actor: User, now: datetime) -> Appointment:
    """Mark the patient arrived (booked -> checked_in), on the session's local day only."""
    _require(appointment, (_S.booked,), "Only a booked session can be checked in.")
    if not is_session_day(appointment, now=now):
        raise PolicyRefused("Patients can only be checked in on the day.", code="not_today")
    return _set(appointment, _S.checked_in, "appointment.check_in", actor=actor, now=now)


def undo_check_in(appointment: Appointment, *, actor: User, now: datetime) -> Appointment:
    """Undo a check-in (checked_in -> booked), on the session's local day only."""
    _require(appointment, (_S.checked_in,), "This patient is not checked in.")
    if not is_session_day(appointment, now=now):
        raise PolicyRefused("A check-in can only be undone on the day.", code="not_today")
    return _set(appointment, _S.booked, "appointment.undo_check_in", actor=actor, now=now)


def mark_completed(appointment: Appointment, *, actor: User, now: datetime) -> Appointment:
    """Record the session as given (booked or checked_in -> completed), once it has started."""
    _require(
        appointment, (_S.booked, _S.checked_in), "Only a booked session can be marked completed."
    )
    _require_started(appointment, now=now, what="marked completed")
    return _set(appointment, _S.completed, "appointment.complete", actor=actor, now=now)


def mark_no_show(appointment: Appointment, *, actor: User, now: datetime) -> Appointment:
    """Record that the patient did not come (booked -> no_show), only after `starts_at`."""
    _require(appointment, (_S.booked,), "Only a booked session can be marked as a no-show.")
    _require_started(appointment, now=now, what="marked as a no-show")
    return _set(appointment, _S.no_show, "appointment.no_show", actor=actor, now=now)


def undo_outcome(appointment: Appointment, *, actor: User, now: datetime) -> Appointment:
    """Undo "completed" or "no-show" (-> booked), until the end of the session's local day.

    A no-show frees the time, so putting it back runs under the overlap guards: SlotTaken
    if the time was given to someone else meanwhile.
    """
    _require(appointment, (_S.completed, _S.no_show), "This session has no outcome to undo.")
    if local_today(appointment.location.zone, now=now) > session_day(appointment):
        raise PolicyRefused(
            "An outcome can only be undone on the day of the session.", code="undo_too_late"
        )
    with guarded_write():
        _set(appointment, _S.booked, "appointment.undo_outcome", actor=actor, now=now)
    return appointment


def staff_cancel(
    appointment: Appointment,
    *,
    actor: User,
    now: datetime,
    reason: str,
    base_url: str,
    clinic_name: str,
) -> Appointment:
    """Cancel for the clinic with a recorded reason; the patient gets a METHOD:CANCEL email.

    Never a late cancel (clinic cancellations never count). Raises InvalidInput (field
    `reason`) for a blank reason, PolicyRefused `wrong_status` unless booked or checked in.
    """
    text = _reason(reason, field="reason", missing="Enter why the session is cancelled.")
    _require(appointment, (_S.booked, _S.checked_in), "Only a booked session can be cancelled.")
    return cancel_appointment(
        appointment,
        now=now,
        actor=actor,
        by_staff=True,
        reason=text,
        base_url=base_url,
        clinic_name=clinic_name,
        detail="staff",
    )


def staff_reschedule(
    appointment: Appointment,
    *,
    starts_at: datetime,
    actor: User,
    now: datetime,
    base_url: str,
    clinic_name: str,
    hold_owner: str | None = None,
    override_reason: str | None = None,
) -> Appointment:
    """Move a booked session to `starts_at` (same practitioner, location and session type).

    The engine checks the new time (hours, exceptions, buffers, rooms) and the database
    guards refuse any overlap, in one transaction with the move; `hold_owner` names a hold
    the caller placed on the new time, released in that same transaction. A non-blank
    `override_reason` skips minimum notice and the booking horizon (never hours or
    overlaps) and is recorded on the audit row as "override: <reason>". The patient
    gets a "changed" email with the updated .ics.
    """
    _require(appointment, (_S.booked,), "Only a booked session can be moved.")
    override = override_reason is not None and override_reason.strip() != ""
    if override_reason is not None and not override:
        raise InvalidInput(
            "Enter why the notice or horizon is overridden.", field="override_reason"
        )
    return reschedule_appointment(
        appointment,
        starts_at=starts_at,
        hold_owner=hold_owner or f"staff-move:{appointment.id}",
        now=now,
        actor=actor,
        by_staff=True,
        base_url=base_url,
        clinic_name=clinic_name,
        override_limits=override,
        detail=_audit_note("override", override_reason) if override else "staff",
    )


def free_times(appointment: Appointment, *, day: date, now: datetime) -> list[Slot]:
    """Free starts on local `day` for this appointment's type, practitioner and location.

    The same engine as online booking (notice and horizon apply); the appointment's own
    time is shown as taken.
    """
    return find_slots(
        AvailabilityQuery(
            session_type_id=appointment.session_type_id,
            location_id=appointment.location_id,
            date_from=day,
            date_to=day,
            practitioner_id=appointment.practitioner_id,
        ),
        now=now,
    )


def _require(appointment: Appointment, allowed: tuple[AppointmentStatus, ...], msg: str) -> None:
    if appointment.status not in allowed:
        raise PolicyRefused(msg, code="wrong_status")


def _require_started(appointment: Appointment, *, now: datetime, what: str) -> None:
    if now < appointment.starts_at:
        raise PolicyRefused(
            f"A session can only be {what} once it has started.", code="not_started"
        )


def _reason(value: str | None, *, field: str, missing: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise InvalidInput(missing, field=field)
    if len(text) > REASON_MAX:
        raise InvalidInput(f"Reason must be {REASON_MAX} characters or fewer.", field=field)
    return text


def _audit_note(label: str, reason: str | None) -> str:
    return f"{label}: {_reason(reason, field='override_reason', missing='')}"[:200]


def _set(
    appointment: Appointment,
    status: AppointmentStatus,
    action: str,
    *,
    actor: User,
    now: datetime,
) -> Appointment:
    previous = appointment.status
    # The row, then its stamps, as a cancel or a move takes them (stamp_locks.py): a check-in
    # that took the stamps first deadlocked with a cancel of the same session (PostgreSQL).
    lock_appointments([appointment])
    if appointment.status != previous:
        raise PolicyRefused(
            "This session has just been changed. Check it and try again.", code="changed"
        )
    lock_row_stamps(appointment)
    appointment.status = status
    appointment.updated_at = now
    # The change (and its stamp bumps) before the audit row: appending takes the audit
    # chain's lock to commit, which writers take after their stamps (stamp_locks.py).
    db.session.flush()
    record_event(
        action,
        actor=actor,
        now=now,
        object_type="appointment",
        object_id=appointment.id,
        patient_id=appointment.patient_id,
        detail=f"{previous}->{status}",
    )
    return appointment
