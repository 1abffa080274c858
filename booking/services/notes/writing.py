"""Writing a note: a draft saved on every submit, signing (then locked), addenda.

The view parses the form into `values` (only the fields that were valid, so a mistake in
one box never loses the others); the service checks who writes and that the note is a
draft. Signing runs the pure rules of booking.domain.notes.signing with the patient's
current consents and flags. A signed note is never changed here, and the database
triggers refuse it too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from booking.domain.errors import InvalidInput, NotFound, PolicyRefused
from booking.domain.notes.signing import Problem, SigningFacts, needs_follow_up, signing_problems
from booking.extensions import db
from booking.models import Appointment, ClinicalNote, NoteAddendum, NoteFollowUp, PatientFlag, User
from booking.services.clinic import care
from booking.services.intake.consent import current_consents
from booking.services.notes import access
from booking.services.platform.audit import record_event

# The fields a draft takes, in the form's order.
NOTE_FIELDS = (
    "chief_complaint",
    "pain_score",
    "response",
    "tongue_colour",
    "tongue_coating",
    "tongue_shape",
    "pulse_positions",
    "pulse_qualities",
    "observations",
    "patterns",
    "pattern_text",
    "plan",
    "points",
    "modalities",
    "electro_hz",
    "electro_minutes",
    "needles_in",
    "needles_out",
    "adverse_events",
    "adverse_detail",
)
EDITABLE = frozenset(NOTE_FIELDS)
ADDENDUM_MAX = 5000
log = logging.getLogger(__name__)  # ids only: never a note's text


class NoteLocked(PolicyRefused):
    """The note is signed: corrections go in an addendum."""

    code = "note_locked"


class SigningRefused(PolicyRefused):
    """The signing rules found problems; each names the field to fix."""

    code = "signing_refused"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(" ".join(problem.message for problem in problems))
        self.problems = problems


@dataclass(frozen=True)
class Saved:
    note: ClinicalNote
    created: bool


def save_draft(
    appointment: Appointment, values: Mapping[str, Any], *, actor: User, now: datetime
) -> Saved:
    """Create or update the session's draft note with `values` (field -> value)."""
    if care.practitioner_id_of(actor) != appointment.practitioner_id:
        raise NotFound("There is no session here.")
    unknown = set(values) - EDITABLE
    if unknown:
        raise InvalidInput(f"Unknown note fields: {', '.join(sorted(unknown))}.")
    note = access.note_of(appointment.id)
    created = note is None
    if note is None:
        if appointment.patient_id is None:  # a hold has no patient and no note
            raise NotFound("There is no session here.")
        note = ClinicalNote(
            appointment_id=appointment.id,
            patient_id=appointment.patient_id,
            practitioner_id=appointment.practitioner_id,
            author_id=actor.id,
            created_at=now,
        )
        db.session.add(note)
    elif note.signed:
        raise NoteLocked("This note is signed and cannot be changed: add an addendum instead.")
    for name, value in values.items():
        setattr(note, name, value)
    note.updated_at = now
    db.session.flush()
    if created:
        record_event(
            "note.create",
            actor=actor,
            now=now,
            object_type="clinical_note",
            object_id=note.id,
            patient_id=note.patient_id,
        )
    return Saved(note, created)


def problems_of(note: ClinicalNote) -> list[Problem]:
    """What stops this note being signed, with the patient's consents and flags as they are."""
    flags = db.session.scalars(
        select(PatientFlag.code).where(
            PatientFlag.patient_id == note.patient_id, PatientFlag.cleared_at.is_(None)
        )
    ).all()
    facts = SigningFacts(
        modalities=note.modality_codes,
        needles_in=note.needles_in,
        needles_out=note.needles_out,
        consented={modality.value for modality in current_consents(note.patient_id)},
        flags=set(flags),
        electro_hz=note.electro_hz,
        electro_minutes=note.electro_minutes,
    )
    return signing_problems(facts)


def sign(note: ClinicalNote, *, actor: User, now: datetime) -> ClinicalNote:
    """Sign a draft: refused with every problem named; after it the note is locked.

    Fainting or a forgotten needle puts the patient on reception's follow-up list.
    """
    if not access.may_write(note, actor=actor):
        raise NotFound("There is no note here.")
    if note.signed:
        raise NoteLocked("This note is already signed.")
    problems = problems_of(note)
    if problems:
        raise SigningRefused(problems)
    note.signed_at = now
    note.signed_by_id = actor.id
    note.updated_at = now
    db.session.flush()
    record_event(
        "note.sign",
        actor=actor,
        now=now,
        object_type="clinical_note",
        object_id=note.id,
        patient_id=note.patient_id,
    )
    log.info("clinical note %s signed", note.id)
    if needs_follow_up(note.adverse_codes):
        db.session.add(NoteFollowUp(note_id=note.id, events=note.adverse_events, created_at=now))
        db.session.flush()
        log.info("clinical note %s: adverse event put on reception's follow-up list", note.id)
    return note


def add_addendum(note: ClinicalNote, text: str, *, actor: User, now: datetime) -> NoteAddendum:
    """A correction under a signed note, with its author and time."""
    if not access.may_add_addendum(note, actor=actor):
        if not note.signed and access.may_write(note, actor=actor):
            raise PolicyRefused("This note is a draft: change it directly, then sign it.")
        raise NotFound("There is no note here.")
    text = text.strip()
    if not text:
        raise InvalidInput("Enter the addendum.", field="text")
    if len(text) > ADDENDUM_MAX:
        raise InvalidInput(f"Addendum must be {ADDENDUM_MAX} characters or fewer.", field="text")
    addendum = NoteAddendum(note_id=note.id, author_id=actor.id, created_at=now, text=text)
    db.session.add(addendum)
    db.session.flush()
    record_event(
        "note.addendum",
        actor=actor,
        now=now,
        object_type="clinical_note",
        object_id=note.id,
        patient_id=note.patient_id,
    )
    return addendum
