"""Who may read and write clinical notes (domain.md §6).

Every practitioner of the clinic reads notes (each read audited by the page); the session's
own practitioner writes and signs its note; a practitioner who treats the patient adds
addenda. Receptionists, admins and patients reach none: NotFound, so a note's existence is
not disclosed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.domain.errors import NotFound
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    ClinicalNote,
    NoteAddendum,
    PatientProfile,
    User,
)
from booking.services.clinic import care

NOTE_STATUSES = (
    AppointmentStatus.booked,
    AppointmentStatus.checked_in,
    AppointmentStatus.completed,
)


def reader_id(actor: User) -> int:
    """The practitioner id of an actor who may read notes; NotFound for everyone else."""
    practitioner_id = care.practitioner_id_of(actor)
    if practitioner_id is None:
        raise NotFound("There is no note here.")
    return practitioner_id


def own_session(appointment_id: int, *, actor: User) -> Appointment:
    """A session of the signed-in practitioner that can have a note (not held, cancelled or a
    no-show); NotFound otherwise."""
    practitioner_id = reader_id(actor)
    appointment = db.session.scalar(
        select(Appointment)
        .where(
            Appointment.id == appointment_id,
            Appointment.practitioner_id == practitioner_id,
            Appointment.status.in_(NOTE_STATUSES),
        )
        .options(
            selectinload(Appointment.patient),
            selectinload(Appointment.session_type),
            selectinload(Appointment.location),
        )
    )
    if appointment is None:
        raise NotFound("There is no session here.")
    return appointment


def note_of(appointment_id: int) -> ClinicalNote | None:
    return db.session.scalar(
        select(ClinicalNote)
        .where(ClinicalNote.appointment_id == appointment_id)
        .options(selectinload(ClinicalNote.addenda).selectinload(NoteAddendum.author))
    )


def readable_note(note_id: int, *, actor: User) -> ClinicalNote:
    """A note the actor may read (any practitioner); NotFound otherwise."""
    reader_id(actor)
    note = db.session.scalar(
        select(ClinicalNote)
        .where(ClinicalNote.id == note_id)
        .options(
            selectinload(ClinicalNote.addenda).selectinload(NoteAddendum.author),
            selectinload(ClinicalNote.appointment).selectinload(Appointment.location),
            selectinload(ClinicalNote.patient),
            selectinload(ClinicalNote.practitioner),
        )
    )
    if note is None:
        raise NotFound("There is no note here.")
    return note


def may_write(note: ClinicalNote, *, actor: User) -> bool:
    return care.practitioner_id_of(actor) == note.practitioner_id


def may_add_addendum(note: ClinicalNote, *, actor: User) -> bool:
    practitioner_id = care.practitioner_id_of(actor)
    if practitioner_id is None or not note.signed:
        return False
    return practitioner_id == note.practitioner_id or care.treats(practitioner_id, note.patient_id)


def patient_notes(
    patient_id: int, *, actor: User, limit: int = 50
) -> tuple[PatientProfile, list[ClinicalNote]]:
    """A patient and their notes, latest session first (signed and drafts), for a
    practitioner; NotFound for an unknown patient or another role."""
    reader_id(actor)
    patient = db.session.get(PatientProfile, patient_id)
    if patient is None:
        raise NotFound("There is no patient here.")
    return patient, list(
        db.session.scalars(
            select(ClinicalNote)
            .join(Appointment, Appointment.id == ClinicalNote.appointment_id)
            .where(ClinicalNote.patient_id == patient_id)
            .options(
                selectinload(ClinicalNote.appointment).selectinload(Appointment.location),
                selectinload(ClinicalNote.practitioner),
            )
            .order_by(Appointment.starts_at.desc(), ClinicalNote.id.desc())
            .limit(limit)
        )
    )


def last_note_before(appointment: Appointment) -> ClinicalNote | None:
    """The patient's latest signed note of an earlier session: "last time"."""
    return db.session.scalar(
        select(ClinicalNote)
        .join(Appointment, Appointment.id == ClinicalNote.appointment_id)
        .where(
            ClinicalNote.patient_id == appointment.patient_id,
            ClinicalNote.signed_at.is_not(None),
            Appointment.starts_at < appointment.starts_at,
        )
        .order_by(Appointment.starts_at.desc(), ClinicalNote.id.desc())
        .limit(1)
    )


def note_states(appointment_ids: list[int]) -> dict[int, bool]:
    """Per appointment with a note: True when signed, False for a draft (one query)."""
    if not appointment_ids:
        return {}
    rows = db.session.execute(
        select(ClinicalNote.appointment_id, ClinicalNote.signed_at).where(
            ClinicalNote.appointment_id.in_(appointment_ids)
        )
    )
    return {appointment_id: signed_at is not None for appointment_id, signed_at in rows}
