"""Treating relationships: the one rule for which practitioner may see which patient.

A practitioner reaches a patient's clinical record (intake, flags, consent) only while the
clinic recognises her as treating them: a booked, checked-in or completed session with her.
Held, cancelled and no-show rows grant nothing, so booking and cancelling a patient cannot
open their record (issue 13). Treatment plans will join this rule when they exist.
Receptionists read every patient; admins none (domain.md §6).
"""

from __future__ import annotations

from sqlalchemy import exists, select

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, Role, User
from booking.services.clinic.practitioners import practitioner_of

TREATING_STATUSES = (
    AppointmentStatus.booked,
    AppointmentStatus.checked_in,
    AppointmentStatus.completed,
)


def practitioner_id_of(user: User) -> int | None:
    """The practitioner row of a practitioner's account (None for other roles)."""
    if user.role != Role.practitioner:
        return None
    practitioner = practitioner_of(user)
    return practitioner.id if practitioner is not None else None


def treats(practitioner_id: int, patient_id: int) -> bool:
    """True when the practitioner has a booked, checked-in or completed session with them."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Appointment.patient_id == patient_id,
                    Appointment.practitioner_id == practitioner_id,
                    Appointment.status.in_(TREATING_STATUSES),
                )
            )
        )
    )


def may_read_patient(patient_id: int, *, actor: User) -> bool:
    """Receptionists read every patient's record; practitioners those they treat; others none."""
    if actor.role == Role.receptionist:
        return True
    practitioner_id = practitioner_id_of(actor)
    return practitioner_id is not None and treats(practitioner_id, patient_id)
