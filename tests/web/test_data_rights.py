"""P1, P2: a patient's export holds all of theirs and none of anyone else's; erasure removes
their identity and free text, keeps the clinical rows with their dates, closes the account
and leaves the audit trail (with the request) untouched. Both engines.

The second patient shares the first's email address (families do) and has a similar name:
the export and the erasure must go by the patient's id, never by name or address.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    ConsentMethod,
    ErasureRequest,
    FlagSeverity,
    IntakeResponse,
    IntakeStatus,
    Modality,
    OutboxMessage,
    PatientFlag,
    PatientProfile,
    Role,
    User,
    UserSession,
)
from booking.services.intake.consent import record_consent
from booking.services.platform import outbox
from booking.services.platform.audit import record_event
from booking.services.privacy.export import SECTIONS
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, make_appointment, make_intake, make_patient, make_user

SHARED_EMAIL = "morgan.family@example.com"
NOW = datetime(2027, 5, 1, 9, 0, tzinfo=UTC)


@dataclass
class Person:
    user_id: int
    patient_id: int
    email: str
    canaries: dict[str, str]  # section key -> a value only this patient's rows hold


def _person(tag: str, given: str, family: str, staff: User) -> Person:
    """A patient with a row in every table an export reads, each holding a canary."""
    user = make_user(role=Role.patient, email=f"{tag}@accounts.example", display_name=given)
    patient = make_patient(
        given_name=given,
        family_name=family,
        email=SHARED_EMAIL,
        phone=f"+4477009{abs(hash(tag)) % 100000:05d}",
        date_of_birth=date(1984, 2, 3),
        user_id=user.id,
    )
    past = make_appointment(
        patient=patient,
        starts_at=datetime(2027, 3, 1, 9, 0, tzinfo=UTC) + timedelta(days=len(tag)),
        status=AppointmentStatus.cancelled,
        cancel_reason=f"cancel-{tag}",
    )
    future = make_appointment(
        patient=patient,
        starts_at=datetime(2027, 6, 1, 9, 0, tzinfo=UTC) + timedelta(days=len(tag)),
        practitioner=past.practitioner,
        location=past.location,
        session_type=past.session_type,
    )
    intake = make_intake(
        appointment=future,
        now=NOW,
        answers={"concern": f"concern-{tag}", "onset": "under_6_weeks", "pain_now": "4"},
        status=IntakeStatus.reviewed,
        submitted_at=NOW,
        reviewed_at=NOW,
        review_comment=f"review-{tag}",
    )
    db.session.add(
        PatientFlag(
            patient_id=patient.id,
            code=f"flag-{tag}",
            severity=FlagSeverity.precaution,
            source="intake",
            intake_id=intake.id,
            cleared_at=NOW,
            cleared_reason=f"cleared-{tag}",
        )
    )
    record_consent(patient, Modality.needling, method=ConsentMethod.paper, actor=staff, now=NOW)
    outbox.enqueue(
        kind="appointment.confirmation",
        recipient=SHARED_EMAIL,
        patient_id=patient.id,
        subject="Your session is booked",
        body_text=f"Hello {given}, email-{tag}. Manage: http://x/manage/{'k' * 43}",
        dedupe_key=f"test:{tag}",
        now=NOW,
    )
    record_event(
        "intake.read",
        actor=staff,
        now=NOW,
        object_type="intake",
        object_id=intake.id,
        patient_id=patient.id,
    )
    db.session.flush()
    return Person(
        user.id,
        patient.id,
        user.email,
        {
            "profile": given,
            "appointments": f"cancel-{tag}",
            "intake": f"concern-{tag}",
            "flags": f"flag-{tag}",
            "consents": "paper",
            "emails": f"email-{tag}",
            "record_access": "intake.read",
        },
    )


@pytest.fixture
def family(app: Flask) -> tuple[Person, Person]:
    with app.app_context():
        make_user(role=Role.admin, email="admin@rights.example")
        staff = make_user(role=Role.receptionist, display_name="Rita Reception")
        first = _person("alex", "Alex", "Morgan", staff)
        second = _person("alexa", "Alexa", "Morgane", staff)
        db.session.commit()
        db.session.remove()
    return first, second


def _client(app: Flask, person: Person) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, person.email, PASSWORD).status_code == 302
    return client


@pytest.mark.matrix("P1")
def test_export_holds_all_of_the_patient_and_nothing_of_another(
    app: Flask, family: tuple[Person, Person]
) -> None:
    alex, alexa = family
    client = _client(app, alex)
    response = client.get("/patient/data/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    export = json.loads(response.get_data(as_text=True))
    assert export["format_version"] == 1
    assert export["patient_id"] == alex.patient_id
    assert list(export["sections"]) == [s.key for s in SECTIONS]
    for key, canary in alex.canaries.items():
        assert canary in json.dumps(export["sections"][key]), key
    every_row = [row for rows in export["sections"].values() for row in rows]
    assert all(row.get("patient_id", alex.patient_id) == alex.patient_id for row in every_row)
    page = client.get("/patient/data/export")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for key, canary in alex.canaries.items():
        assert canary in html, key
    text = response.get_data(as_text=True) + html
    for canary in ("Alexa", "Morgane", "alexa@", "-alexa"):
        assert canary not in text
    assert "k" * 43 not in text  # the manage link's token is left out
    with app.app_context():
        exports = db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "privacy.export")
        ).all()
        assert sorted(exports) == ["html", "json"]


@pytest.mark.matrix("P2")
def test_erasure_keeps_the_clinical_record_and_the_audit_and_closes_the_account(
    app: Flask, family: tuple[Person, Person]
) -> None:
    alex, alexa = family
    admin = app.test_client()
    assert sign_in(admin, "admin@rights.example", PASSWORD).status_code == 302
    client = _client(app, alex)
    page = client.get("/patient/data/erase")
    assert "8 years" in page.get_data(as_text=True)
    refused = client.post(
        "/patient/data/erase", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert refused.status_code == 200
    assert "Confirm that you understand" in refused.get_data(as_text=True)
    asked = client.post(
        "/patient/data/erase",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "confirm": "understood"},
    )
    assert asked.status_code == 303
    assert "We have your request" in client.get("/patient/data/erase").get_data(as_text=True)

    with app.app_context():
        erasure_id = db.session.scalar(select(ErasureRequest.id))
        audit_before = db.session.scalar(select(func.count(AuditEvent.id)))
        clinical_before = _clinical_counts(alex.patient_id)
    queue = admin.get("/admin/erasure-requests")
    assert "Alex Morgan" in queue.get_data(as_text=True)
    form = admin.get(f"/admin/erasure-requests/{erasure_id}").get_data(as_text=True)
    done = admin.post(
        f"/admin/erasure-requests/{erasure_id}",
        data={"csrf_token": csrf_from(form), "confirm": "understood"},
    )
    assert done.status_code == 303
    again = admin.post(
        f"/admin/erasure-requests/{erasure_id}",
        data={"csrf_token": csrf_from(form), "confirm": "understood"},
    )
    assert again.status_code == 200  # already carried out: the page, no second erasure

    assert client.get("/patient/data").status_code == 302  # signed out everywhere
    assert sign_in(app.test_client(), alex.email, PASSWORD).status_code == 200  # refused
    with app.app_context():
        patient = db.session.get_one(PatientProfile, alex.patient_id)
        assert (patient.given_name, patient.family_name, patient.phone) == (
            "Erased",
            "patient",
            None,
        )
        assert "morgan" not in patient.email.lower()
        assert patient.anonymised_at is not None
        user = db.session.get_one(User, alex.user_id)
        assert not user.is_enabled
        assert "alex" not in user.email
        assert (
            db.session.scalar(
                select(func.count(UserSession.id)).where(
                    UserSession.user_id == alex.user_id, UserSession.revoked_at.is_(None)
                )
            )
            == 0
        )
        ips = db.session.scalars(
            select(UserSession.ip_address).where(UserSession.user_id == alex.user_id)
        ).all()
        assert ips
        assert set(ips) == {None}
        assert _clinical_counts(alex.patient_id) == clinical_before  # rows kept
        rows = _all_text_of(alex.patient_id)
        for canary in (
            "cancel-alex",
            "concern-alex",
            "review-alex",
            "cleared-alex",
            "email-alex",
            SHARED_EMAIL,
            "Alex",
            "Morgan",
        ):
            assert canary not in rows, canary
        intake = db.session.scalar(
            select(IntakeResponse).where(IntakeResponse.patient_id == alex.patient_id)
        )
        assert intake.answers == {"onset": "under_6_weeks", "pain_now": "4"}  # choices stay
        assert intake.submitted_at is not None  # dates stay
        appointments = db.session.scalars(
            select(Appointment).where(Appointment.patient_id == alex.patient_id)
        ).all()
        assert all(a.starts_at is not None for a in appointments)
        assert {a.status for a in appointments} == {
            AppointmentStatus.cancelled
        }  # future one cancelled
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.patient_id == alex.patient_id)
        ).all()
        assert {"privacy.erasure_requested", "privacy.erasure_done", "intake.read"} <= set(actions)
        assert db.session.scalar(select(func.count(AuditEvent.id))) > audit_before
        assert (
            db.session.scalar(
                select(OutboxMessage.status).where(OutboxMessage.patient_id == alex.patient_id)
            )
            == "dead"
        )
        # The other patient at the same address is untouched.
        other = db.session.get_one(PatientProfile, alexa.patient_id)
        assert (other.given_name, other.email) == ("Alexa", SHARED_EMAIL)
        assert "concern-alexa" in _all_text_of(alexa.patient_id)


def _clinical_counts(patient_id: int) -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(
            select(func.count()).select_from(model).where(model.patient_id == patient_id)
        )
        for model in (Appointment, IntakeResponse, PatientFlag, OutboxMessage)
    }


def _all_text_of(patient_id: int) -> str:
    """Every row of the patient's own tables, as one string to search for canaries."""
    parts = [repr(db.session.get(PatientProfile, patient_id).__dict__)]
    for model in (Appointment, IntakeResponse, PatientFlag, OutboxMessage):
        for row in db.session.scalars(select(model).where(model.patient_id == patient_id)):
            parts.append(repr({k: v for k, v in row.__dict__.items() if not k.startswith("_")}))
    return "\n".join(parts)


@pytest.mark.matrix("C1")
def test_csrf_headers_and_enumeration_on_the_data_rights_routes(
    app: Flask, family: tuple[Person, Person]
) -> None:
    alex, _ = family
    client = _client(app, alex)
    for token in (None, "forged"):
        data = {"confirm": "understood", **({"csrf_token": token} if token else {})}
        assert client.post("/patient/data/erase", data=data).status_code == 400
    admin = app.test_client()
    assert sign_in(admin, "admin@rights.example", PASSWORD).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(ErasureRequest.id))) == 0
    page = client.get("/patient/data/erase").get_data(as_text=True)
    client.post(
        "/patient/data/erase", data={"csrf_token": csrf_from(page), "confirm": "understood"}
    )
    with app.app_context():
        erasure_id = db.session.scalar(select(ErasureRequest.id))
    assert (
        admin.post(
            f"/admin/erasure-requests/{erasure_id}", data={"confirm": "understood"}
        ).status_code
        == 400
    )
    with app.app_context():
        assert db.session.get_one(PatientProfile, alex.patient_id).anonymised_at is None
    # Other ids are simply not found; the patient's own pages take no id at all.
    for other in (erasure_id + 1, erasure_id + 1000):
        assert admin.get(f"/admin/erasure-requests/{other}").status_code == 404
    for path in ("/patient/data", "/patient/data/export", "/patient/data/export.json"):
        response = client.get(path)
        assert "no-store" in response.headers["Cache-Control"], path
        assert "default-src 'self'" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
