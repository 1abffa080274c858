"""Clinical notes services and the lock triggers (issue 16), on both engines.

Each signing rule both ways through the service with real consents and flags; the signed
note refused by the service and by raw SQL (the triggers); addenda; the follow-up list.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from booking.domain.errors import NotFound, PolicyRefused
from booking.extensions import db
from booking.models import (
    Appointment,
    ClinicalNote,
    ConsentMethod,
    FlagSeverity,
    Modality,
    NoteAddendum,
    NoteFollowUp,
    PatientFlag,
    Role,
    User,
)
from booking.services.intake.consent import record_consent
from booking.services.notes import access, follow_ups
from booking.services.notes.writing import (
    NoteLocked,
    SigningRefused,
    add_addendum,
    save_draft,
    sign,
)
from booking.services.privacy import retention
from tests.factories import make_appointment, make_clinic, make_practitioner, make_user

Session = tuple[Appointment, User]
NOW = datetime(2027, 4, 14, 10, 0, tzinfo=UTC)
NEEDLES = {"modalities": "needling", "needles_in": 14, "needles_out": 14, "chief_complaint": "x"}


@pytest.fixture
def session(app_ctx: Flask) -> Session:
    make_clinic()
    appointment = make_appointment()
    practitioner = appointment.practitioner
    assert appointment.patient is not None
    record_consent(
        appointment.patient, Modality.needling, method=ConsentMethod.paper, actor=None, now=NOW
    )
    return appointment, practitioner.user


def test_fourteen_in_thirteen_out_refused_then_fourteen_signs(session: Session) -> None:
    appointment, author = session
    note = save_draft(appointment, {**NEEDLES, "needles_out": 13}, actor=author, now=NOW).note
    with pytest.raises(SigningRefused) as refused:
        sign(note, actor=author, now=NOW)
    assert "Needles removed (13) does not match needles inserted (14)" in refused.value.message
    assert note.signed_at is None
    save_draft(appointment, {"needles_out": 14}, actor=author, now=NOW)
    assert sign(note, actor=author, now=NOW).signed_at == NOW


def test_a_modality_without_consent_and_electro_under_no_electro_refuse(session: Session) -> None:
    appointment, author = session
    electro = {**NEEDLES, "modalities": "electro_acupuncture", "electro_hz": 2}
    note = save_draft(appointment, {**electro, "electro_minutes": 20}, actor=author, now=NOW).note
    with pytest.raises(SigningRefused) as refused:
        sign(note, actor=author, now=NOW)
    assert "no current consent" in refused.value.message
    assert appointment.patient is not None
    record_consent(
        appointment.patient,
        Modality.electro_acupuncture,
        method=ConsentMethod.verbal,
        actor=author,
        now=NOW,
    )
    db.session.add(
        PatientFlag(
            patient_id=appointment.patient_id,
            code="no_electro",
            severity=FlagSeverity.contraindication,
            source="test",
        )
    )
    db.session.flush()
    with pytest.raises(SigningRefused) as refused:
        sign(note, actor=author, now=NOW)
    assert [p.field for p in refused.value.problems] == ["modalities"]
    assert "no_electro flag" in refused.value.message
    save_draft(appointment, {"modalities": "needling"}, actor=author, now=NOW)
    assert sign(note, actor=author, now=NOW).signed


def test_a_signed_note_is_locked_and_takes_addenda_in_order(session: Session) -> None:
    appointment, author = session
    note = save_draft(appointment, NEEDLES, actor=author, now=NOW).note
    with pytest.raises(PolicyRefused):
        add_addendum(note, "too early", actor=author, now=NOW)
    sign(note, actor=author, now=NOW)
    with pytest.raises(NoteLocked):
        save_draft(appointment, {"plan": "changed"}, actor=author, now=NOW)
    with pytest.raises(NoteLocked):
        sign(note, actor=author, now=NOW)
    add_addendum(note, "First correction", actor=author, now=NOW)
    add_addendum(note, "Second correction", actor=author, now=NOW)
    db.session.expire_all()
    stored = access.note_of(appointment.id)
    assert stored is not None
    assert [a.text for a in stored.addenda] == [
        "First correction",
        "Second correction",
    ]


def test_only_the_sessions_practitioner_writes_and_practitioners_read(
    session: Session,
) -> None:
    appointment, author = session
    other = make_practitioner().user
    with pytest.raises(NotFound):
        save_draft(appointment, NEEDLES, actor=other, now=NOW)
    note = save_draft(appointment, NEEDLES, actor=author, now=NOW).note
    assert access.readable_note(note.id, actor=other) is note
    for role in (Role.receptionist, Role.admin, Role.patient):
        with pytest.raises(NotFound):
            access.readable_note(note.id, actor=make_user(role=role))
    sign(note, actor=author, now=NOW)
    with pytest.raises(NotFound):  # not treating this patient
        add_addendum(note, "Not mine", actor=other, now=NOW)


@pytest.mark.parametrize(
    ("events", "listed"),
    [("fainting", True), ("forgotten_needle", True), ("bruising,soreness", False)],
)
def test_fainting_or_a_forgotten_needle_goes_on_the_follow_up_list(
    session: Session,
    events: str,
    listed: bool,
) -> None:
    appointment, author = session
    values = {**NEEDLES, "adverse_events": events}
    note = save_draft(appointment, values, actor=author, now=NOW).note
    assert follow_ups.open_follow_ups() == []  # a draft lists nothing
    sign(note, actor=author, now=NOW)
    found = follow_ups.open_follow_ups()
    assert [row.note_id for row in found] == ([note.id] if listed else [])
    if listed:
        follow_ups.follow_up_done(found[0].id, actor=make_user(role=Role.receptionist), now=NOW)
        assert follow_ups.open_follow_ups() == []


def test_the_triggers_refuse_sql_changes_to_a_signed_note(session: Session) -> None:
    appointment, author = session
    note = save_draft(appointment, NEEDLES, actor=author, now=NOW).note
    db.session.execute(
        text("UPDATE clinical_note SET plan = 'draft edit' WHERE id = :id"), {"id": note.id}
    )
    sign(note, actor=author, now=NOW)
    addendum = add_addendum(note, "Later", actor=author, now=NOW)
    db.session.commit()
    statements = [
        ("UPDATE clinical_note SET plan = 'tampered' WHERE id = :id", note.id),
        ("UPDATE clinical_note SET signed_at = NULL WHERE id = :id", note.id),
        ("DELETE FROM clinical_note WHERE id = :id", note.id),
        ("UPDATE note_addendum SET text = 'tampered' WHERE id = :id", addendum.id),
        ("DELETE FROM note_addendum WHERE id = :id", addendum.id),
    ]
    for statement, row_id in statements:
        with pytest.raises(DatabaseError, match="cannot be changed|is locked"):
            db.session.execute(text(statement), {"id": row_id})
        db.session.rollback()
    db.session.expire_all()
    stored = db.session.get(ClinicalNote, note.id)
    assert stored is not None
    assert stored.plan == "draft edit"
    assert stored.signed_at is not None
    assert db.session.scalar(select(NoteFollowUp)) is None


def test_retention_purge_removes_the_notes_the_lock_otherwise_keeps(session: Session) -> None:
    appointment, author = session
    note = save_draft(appointment, NEEDLES, actor=author, now=NOW).note
    sign(note, actor=author, now=NOW)
    add_addendum(note, "Later", actor=author, now=NOW)
    db.session.commit()
    with pytest.raises(DatabaseError, match="is locked"):
        db.session.execute(text("DELETE FROM clinical_note WHERE id = :id"), {"id": note.id})
    db.session.rollback()
    expired = retention.Expired(appointment.patient_id or 0, NOW.date(), NOW.date())
    retention.purge(expired, now=NOW)
    db.session.commit()
    assert db.session.scalar(select(ClinicalNote)) is None
    assert db.session.scalar(select(NoteAddendum)) is None
