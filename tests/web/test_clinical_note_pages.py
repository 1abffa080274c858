"""The note pages (issue 16): write, draft on every save, sign, locked, addenda, reads audited,
who reaches which note route, follow-ups, and no note text in logs or emails."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    AuditEvent,
    ClinicalNote,
    ConsentMethod,
    Location,
    Modality,
    NoteAddendum,
    NoteFollowUp,
    OutboxMessage,
    Practitioner,
    SessionType,
    User,
)
from booking.services.intake.consent import record_consent
from booking.services.notes.writing import save_draft, sign
from tests.conftest import sign_in
from tests.factories import make_appointment, make_patient
from tests.web.booking_helpers import Clock, error_summary, post, text

WEDNESDAY = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)
SECRET = "Zebra-quartz complaint 7781"  # must never reach a log line or an email
FULL = {
    "chief_complaint": SECRET,
    "pain_score": "6",
    "tongue_colour": "red",
    "pulse_qualities": "wiry",
    "patterns": "qi_stagnation",
    "plan": "Weekly for four weeks",
    "points": "LI 4 bilateral\nLR 3 L\nGV 20",
    "modalities": "needling",
    "needles_in": "14",
    "needles_out": "14",
}


@dataclass(frozen=True)
class Setup:
    session: int  # Mei's session with Jane Smith on Wednesday at 10am
    earlier_note: int  # Jane's signed note from a week before, by Mei
    patient: int


def _practitioner(name: str) -> Practitioner:
    return db.session.scalar(select(Practitioner).where(Practitioner.display_name == name))


def _session(practitioner: Practitioner, start: datetime, patient: object) -> int:
    return make_appointment(
        starts_at=start,
        practitioner=practitioner,
        location=db.session.scalar(select(Location).where(Location.slug == "islington")),
        session_type=db.session.scalar(
            select(SessionType).where(SessionType.slug == "follow-up-acupuncture")
        ),
        patient=patient,
    )


@pytest.fixture
def setup(demo: Flask, monkeypatch: pytest.MonkeyPatch) -> Setup:
    Clock(monkeypatch, WEDNESDAY + timedelta(minutes=40))
    with demo.app_context():
        mei = _practitioner("Mei Lin Chen")
        jane = make_patient(given_name="Jane", family_name="Smith")
        record_consent(
            jane,
            Modality.needling,
            method=ConsentMethod.paper,
            actor=None,
            now=WEDNESDAY - timedelta(days=8),
        )
        earlier = _session(mei, WEDNESDAY - timedelta(days=7), jane)
        values = {
            "modalities": "needling",
            "needles_in": 8,
            "needles_out": 8,
            "response": "Slept better",
            "points": [{"code": "ST 36", "side": "bilateral"}],
        }
        note = save_draft(earlier, values, actor=mei.user, now=WEDNESDAY - timedelta(days=7)).note
        sign(note, actor=mei.user, now=WEDNESDAY - timedelta(days=7))
        session = _session(mei, WEDNESDAY, jane).id
        db.session.commit()
        return Setup(session, note.id, jane.id)


@pytest.fixture
def mei(login_as: Callable[[str], FlaskClient], setup: Setup) -> FlaskClient:
    return login_as("practitioner")


def _url(setup: Setup) -> str:
    return f"/practitioner/sessions/{setup.session}/note"


def _note(app: Flask, setup: Setup) -> ClinicalNote | None:
    with app.app_context():
        found = db.session.scalar(
            select(ClinicalNote).where(ClinicalNote.appointment_id == setup.session)
        )
        if found is not None:
            db.session.expunge(found)
        return found


def test_write_save_a_draft_with_mistakes_then_sign_and_add_an_addendum(
    demo: Flask, mei: FlaskClient, setup: Setup
) -> None:
    day = text(mei.get("/practitioner/day?date=2027-03-03"))
    assert "Write note" in day
    page = mei.get(_url(setup))
    assert page.status_code == 200
    assert "Last time: points and response" in text(page)
    wrong = post(
        mei, _url(setup), {**FULL, "pain_score": "11", "points": "LI 21 L", "action": "save"}
    )
    assert wrong.status_code == 422
    summary = error_summary(wrong)
    assert "Pain today must be between 0 and 10" in summary
    assert "LI 21 L is not a WHO standard point code. Did you mean LI 20?" not in summary
    assert "LI 21 is not a WHO standard point code. Did you mean LI 20?" in summary
    assert "Your draft is saved" in text(wrong)
    saved = _note(demo, setup)
    assert saved is not None
    assert saved.chief_complaint == SECRET  # the valid boxes were kept
    assert saved.signed_at is None
    mismatch = post(mei, _url(setup), {**FULL, "needles_out": "13", "action": "sign"})
    assert mismatch.status_code == 422
    assert "Needles removed (13) does not match needles inserted (14)" in error_summary(mismatch)
    assert _note(demo, setup).signed_at is None  # type: ignore[union-attr]
    signed = post(mei, _url(setup), {**FULL, "action": "sign"})
    assert signed.status_code == 303
    note = _note(demo, setup)
    assert note is not None
    assert note.signed_at is not None
    assert note.points == [
        {"code": "LI 4", "side": "bilateral"},
        {"code": "LR 3", "side": "left"},
        {"code": "GV 20", "side": "midline"},
    ]
    view = text(mei.get(signed.headers["Location"]))
    assert "Signed" in view
    assert "LR 3 left" in view
    empty = post(mei, f"/practitioner/notes/{note.id}/addenda", {"text": " "})
    assert empty.status_code == 422
    assert "Enter the addendum" in error_summary(empty)
    for words in ("Pain was 5, not 6", "Patient called: fine"):
        assert (
            post(mei, f"/practitioner/notes/{note.id}/addenda", {"text": words}).status_code == 303
        )
    view = text(mei.get(f"/practitioner/notes/{note.id}"))
    assert view.index("Pain was 5, not 6") < view.index("Patient called: fine")


def test_a_signed_note_cannot_be_changed_through_any_route_by_any_role(
    demo: Flask, login_as: Callable[[str], FlaskClient], setup: Setup
) -> None:
    note_id = setup.earlier_note
    with demo.app_context():
        before = db.session.get(ClinicalNote, note_id)
        assert before is not None
        snapshot = {c.name: getattr(before, c.name) for c in ClinicalNote.__table__.columns}
        earlier_session = before.appointment_id
    routes = [
        ("GET", f"/practitioner/sessions/{earlier_session}/note", {}),
        ("POST", f"/practitioner/sessions/{earlier_session}/note", {**FULL, "action": "save"}),
        ("POST", f"/practitioner/sessions/{earlier_session}/note", {**FULL, "action": "sign"}),
        ("GET", f"/practitioner/notes/{note_id}", {}),
        ("POST", f"/practitioner/notes/{note_id}/addenda", {"text": "From the matrix"}),
        ("GET", f"/practitioner/patients/{setup.patient}/notes", {}),
    ]
    expected = {
        "anonymous": [302] * 6,
        # Other roles are not told the note exists (issue 16: "receptionists and admins
        # do not (404)").
        "patient": [404] * 6,
        "receptionist": [404] * 6,
        "admin": [404] * 6,
        # Mei: reads it, the form refuses changes (422), her addendum goes under it.
        "practitioner": [200, 422, 422, 200, 303, 200],
    }
    for role, statuses in expected.items():
        client = login_as(role)
        found = []
        for method, url, data in routes:
            response = post(client, url, data) if method == "POST" else client.get(url)
            found.append(response.status_code)
        assert found == statuses, role
    with demo.app_context():
        after = db.session.get(ClinicalNote, note_id)
        assert {c.name: getattr(after, c.name) for c in ClinicalNote.__table__.columns} == snapshot
        addenda = db.session.scalars(select(NoteAddendum.text)).all()
        assert addenda == ["From the matrix"]


def test_another_practitioner_reads_but_cannot_write_and_every_read_is_one_audit_row(
    demo: Flask, login_as: Callable[[str], FlaskClient], setup: Setup
) -> None:
    with demo.app_context():
        tom = db.session.scalar(select(User).where(User.email == "tom.okafor@meridian.example"))
        tom_id = tom.id
    client = demo.test_client()
    sign_in(client, "tom.okafor@meridian.example")

    def reads() -> list[tuple[int | None, int | None, int | None]]:
        with demo.app_context():
            return [
                (row.actor_user_id, row.patient_id, row.object_id)
                for row in db.session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "note.read")
                )
            ]

    assert reads() == []
    for _ in range(3):
        assert client.get(f"/practitioner/notes/{setup.earlier_note}").status_code == 200
    assert reads() == [(tom_id, setup.patient, setup.earlier_note)] * 3
    assert client.get(_url(setup)).status_code == 404  # not his session
    list_page = client.get(f"/practitioner/patients/{setup.patient}/notes")
    assert list_page.status_code == 200
    assert len(reads()) == 3  # the list shows no note text: no read


def test_fainting_puts_the_patient_on_receptions_list_and_no_note_text_leaks(
    demo: Flask,
    mei: FlaskClient,
    login_as: Callable[[str], FlaskClient],
    setup: Setup,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    app_log = logging.getLogger(demo.import_name)  # the app's own logger does not propagate
    captured = caplog.handler
    app_log.addHandler(captured)
    app_log.setLevel(logging.DEBUG)
    data = {**FULL, "adverse_events": "fainting", "adverse_detail": SECRET, "action": "sign"}
    assert post(mei, _url(setup), data).status_code == 303
    reception = login_as("receptionist")
    page = reception.get("/reception/follow-ups")
    assert "Jane Smith" in text(page)
    assert "Fainting or near-fainting" in text(page)
    assert SECRET not in page.get_data(as_text=True)
    with demo.app_context():
        follow_up_id = db.session.scalar(select(NoteFollowUp.id))
        bodies = db.session.scalars(select(OutboxMessage)).all()
        for message in bodies:
            assert SECRET not in " ".join(
                str(getattr(message, c.name)) for c in OutboxMessage.__table__.columns
            )
        details = db.session.scalars(select(AuditEvent.detail)).all()
        assert all(SECRET not in (detail or "") for detail in details)
    done = post(reception, f"/reception/follow-ups/notes/{follow_up_id}/done")
    assert done.status_code == 303
    assert "From practitioners’ notes" in text(reception.get("/reception/follow-ups"))
    assert "Jane Smith" not in text(reception.get("/reception/follow-ups"))
    app_log.removeHandler(captured)
    assert SECRET not in caplog.text
    assert any("signed" in record.getMessage() for record in caplog.records)


def test_the_admin_sees_how_often_each_member_of_staff_read_the_record(
    demo: Flask, login_as: Callable[[str], FlaskClient], setup: Setup
) -> None:
    """Issue 16: "a patient's record shows the count of reads per staff member to admins"."""
    mei, reception = login_as("practitioner"), login_as("receptionist")
    tom = demo.test_client()
    sign_in(tom, "tom.okafor@meridian.example")
    for client, times in ((mei, 3), (tom, 1)):
        for _ in range(times):
            assert client.get(f"/practitioner/notes/{setup.earlier_note}").status_code == 200
    assert reception.get(f"/reception/patients/{setup.patient}/health").status_code == 200
    with demo.app_context():
        reads = db.session.execute(
            select(User.display_name, AuditEvent.action)
            .join(User, User.id == AuditEvent.actor_user_id)
            .where(AuditEvent.patient_id == setup.patient, AuditEvent.action.like("%.read"))
        ).all()
    expected = {name: sum(1 for n, _ in reads if n == name) for name, _ in reads}
    assert expected["Mei Lin Chen"] >= 3
    assert expected["Tom Okafor"] >= 1
    assert expected["Mei Lin Chen"] != expected["Tom Okafor"]
    assert len(expected) == 3  # and the receptionist's flags.read

    url = f"/admin/audit?patient={setup.patient}"
    page = login_as("admin").get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    table = html[html.index('id="staff-reads"') : html.index("</table>", html.index("staff-reads"))]
    cells = re.findall(
        r'<td class="govuk-table__cell">([^<]*)</td>\s*'
        r'<td class="govuk-table__cell">([^<]*)</td>\s*'
        r'<td class="govuk-table__cell govuk-table__cell--numeric">(\d+)</td>',
        table,
    )
    assert {name: int(count) for name, _role, count in cells} == expected
    assert ("Mei Lin Chen", "practitioner") in {(name, role) for name, role, _ in cells}
    # Nobody else reaches the counts.
    for role in ("practitioner", "receptionist", "patient"):
        assert login_as(role).get(url).status_code == 403
