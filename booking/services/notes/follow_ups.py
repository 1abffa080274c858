"""Reception's follow-up of notes that recorded fainting or a forgotten needle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.domain.errors import NotFound
from booking.extensions import db
from booking.models import Appointment, ClinicalNote, NoteFollowUp, User
from booking.services.platform.audit import record_event


def open_follow_ups() -> list[NoteFollowUp]:
    """Notes' follow-ups reception has not done yet, newest first (no clinical text)."""
    return list(
        db.session.scalars(
            select(NoteFollowUp)
            .where(NoteFollowUp.followed_up_at.is_(None))
            .options(
                selectinload(NoteFollowUp.note)
                .selectinload(ClinicalNote.appointment)
                .selectinload(Appointment.patient),
                selectinload(NoteFollowUp.note).selectinload(ClinicalNote.practitioner),
            )
            .order_by(NoteFollowUp.created_at.desc(), NoteFollowUp.id.desc())
        )
    )


def follow_up_done(follow_up_id: int, *, actor: User, now: datetime) -> NoteFollowUp:
    """Reception called the patient; twice changes nothing."""
    row = db.session.get(NoteFollowUp, follow_up_id)
    if row is None:
        raise NotFound("That follow-up does not exist.")
    if row.followed_up_at is None:
        row.followed_up_at = now
        row.followed_up_by_id = actor.id
        record_event(
            "note.follow_up",
            actor=actor,
            now=now,
            object_type="note_follow_up",
            object_id=row.id,
            patient_id=row.note.patient_id,
        )
    return row
