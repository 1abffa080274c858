"""Moving and cancelling booked sessions, and the cut-off that applies (domain.md §5)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from booking.db_hooks import write_unit
from booking.domain.errors import NotFound, PolicyRefused
from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, LateCancelMode, User
from booking.services.booking.availability import validate_start
from booking.services.booking.cutoff import is_late, location_phone, policy_for
from booking.services.booking.emails import queue_patient_email
from booking.services.booking.guard import (
    clear_expired_holds,
    expired_hold_scopes,
    guarded_write,
    release_holds,
)
from booking.services.booking.manage_links import first_use_of_new_link, waiting_link_exists
from booking.services.booking.stamp_locks import lock_row_stamps, lock_stamps
from booking.services.platform.audit import record_event
from booking.services.platform.tokens import token_hash
from booking.services.waitlist.offers import FreedTime, offer_freed_time


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
            "It is too late to change this session online. "
            f"Call {location_phone(appointment.location)}.",
            code="call_clinic",
        )
    return late


def _latest(appointment: Appointment) -> None:
    """Lock the row and read it again before changing it (PostgreSQL: SELECT ... FOR UPDATE).

    Two requests, on two app hosts or two workers, may change one session at once: each read
    it before the other committed. Without the lock the second overwrote the first's move
    and reused its ics_sequence, whose email dedupe key then collided (a 500). SQLite needs
    nothing: a write request holds the database's one write lock from its first statement.
    """
    db.session.flush()  # pending changes of this request (a manage link's first use) stay
    db.session.refresh(appointment, with_for_update=True)


def cancel_appointment(
    appointment: Appointment,
    *,
    now: datetime,
    actor: User | None,
    by_staff: bool,
    reason: str | None,
    base_url: str,
    clinic_name: str,
    detail: str | None = None,
    notify: bool = True,
) -> Appointment:
    """Cancel a booked session and queue a METHOD:CANCEL email (unless `notify` is False:
    a plan pause or cancel sends one email for all its sessions).

    Patients are held to the cut-off (PolicyRefused in `call` mode, `late_cancel` in
    `record` mode); staff may cancel any time. Cancelling twice changes nothing.
    `detail` goes on the audit row (never clinical text).
    """
    _latest(appointment)
    if appointment.status == AppointmentStatus.cancelled:
        return appointment
    lock_row_stamps(appointment)
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
    # The change (and its stamp bumps) before the audit row: appending takes the audit
    # chain's lock to commit, which writers take after their stamps (stamp_locks.py).
    db.session.flush()
    if notify:
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
        detail="late" if late else detail,
    )
    if appointment.starts_at > now:
        freed = FreedTime(
            appointment.practitioner_id, appointment.busy_from, appointment.busy_until
        )
        offer_freed_time(freed, now=now, base_url=base_url, clinic_name=clinic_name)
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
    override_limits: bool = False,
    detail: str | None = None,
    secret: str = "",
) -> Appointment:
    """Move a booking to a new start with the same practitioner, in one transaction.

    The browser's hold on the new time is deleted and the original row updated, so the
    old time is never released before the new one is secured. Raises SlotTaken if the
    new time is not free, PolicyRefused inside the cut-off in `call` mode.
    `override_limits` (staff, with a recorded reason) skips notice and horizon, never hours
    or overlaps; `detail` goes on the audit row.
    """
    _latest(appointment)
    if by_staff and appointment.status != AppointmentStatus.booked:
        raise PolicyRefused("Only a booked session can be moved.", code="wrong_status")
    late = False if by_staff else _check_patient_may_change(appointment, now=now)
    old_time = FreedTime(appointment.practitioner_id, appointment.busy_from, appointment.busy_until)
    slot = validate_start(
        session_type_id=appointment.session_type_id,
        location_id=appointment.location_id,
        practitioner_id=appointment.practitioner_id,
        starts_at=starts_at,
        now=now,
        ignore_hold_owner=hold_owner,
        ignore_appointment_id=appointment.id,
        override_limits=override_limits and by_staff,
    )
    # The move bumps its old room's stamp then its new room's, and releasing the browser's
    # hold its own: two moves swapping rooms would deadlock on them (PostgreSQL). All are
    # locked first, in one order; the hold is released after the check, which ignores it.
    clearing = (appointment.practitioner_id, slot.room_id, slot.busy_from, slot.busy_until)
    lock_stamps(
        [
            ("p", appointment.practitioner_id),
            ("r", appointment.room_id),
            ("r", slot.room_id),
            *expired_hold_scopes([clearing], now=now),
        ],
        hold_owner=hold_owner,
    )
    release_holds(hold_owner)
    practitioner_id, room_id, start, end = clearing
    clear_expired_holds(
        practitioner_id=practitioner_id, room_id=room_id, start=start, end=end, now=now
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
        secret=secret,
    )
    record_event(
        "appointment.reschedule",
        actor=actor,
        now=now,
        object_type="appointment",
        object_id=appointment.id,
        patient_id=appointment.patient_id,
        detail=detail,
    )
    # The old time is free now (the new range may overlap it: only what is left counts).
    offer_freed_time(old_time, now=now, base_url=base_url, clinic_name=clinic_name)
    return appointment


def by_manage_token(token: str, *, now: datetime) -> Appointment:
    """The appointment a manage link points to, while the session has not ended.

    A newer link asked for by email (`ManageLink`) becomes the appointment's link on its
    first use, which retires the link in use and every older waiting one; newer waiting
    links keep working. That first use is the only write, in its own unit on a GET (joining
    the request's transaction on a POST, whose caller commits). Raises NotFound for any other
    token.
    """
    if not token or len(token) > 100:
        raise NotFound("This link has expired or is not valid.")
    hashed = token_hash(token)
    appointment = db.session.scalar(
        select(Appointment).where(Appointment.manage_token_hash == hashed)
    )
    if appointment is None and waiting_link_exists(hashed):
        # Its own short write, so the common case (the link in use) stays a plain read.
        with write_unit() as unit:
            appointment_id = first_use_of_new_link(hashed, now=now, session=unit)
        appointment = db.session.get(Appointment, appointment_id) if appointment_id else None
    if appointment is None or appointment.ends_at <= now:
        raise NotFound("This link has expired or is not valid.")
    return appointment
