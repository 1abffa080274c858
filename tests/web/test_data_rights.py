"""P1, P2: a patient's export holds all of theirs and none of anyone else's; erasure removes
their identity and free text, keeps the clinical rows with their dates, closes the account
and leaves the audit trail (with the request) untouched. Both engines.

The second patient shares the first's email address (families do) and has a similar name:
the export and the erasure must go by the patient's id, never by name or address.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import (
    AftercareCheckin,
    Appointment,
    AppointmentStatus,
    AuditEvent,
    ClinicalNote,
    ConsentMethod,
    ErasureRequest,
    FlagSeverity,
    IntakeResponse,
    IntakeStatus,
    Modality,
    NoteAddendum,
    NoteFollowUp,
    OutboxMessage,
    OutcomeMeasure,
    OutcomeRecord,
    PatientFlag,
    PatientProfile,
    PlanAppointment,
    PlanChangeRequest,
    PlanPhase,
    PlanStatus,
    Role,
    SideEffectReport,
    TreatmentPlan,
    User,
    UserSession,
    WaitlistEntry,
    WaitlistOffer,
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
    ids: dict[str, tuple[str, int]]  # section key -> (id key, the id of this patient's row)
    secrets: list[str]  # token hashes: never exported


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
    ids, secrets = _clinical_rows(tag, patient, past, future, staff)
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
            "clinical_notes": f"note-{tag}",
            "note_addenda": f"addendum-{tag}",
            "note_follow_ups": "fainting",
            "treatment_plans": f"goal-{tag}",
            "outcomes": "8.0",
            "plan_change_requests": f"change-{tag}",
            "waitlist": "evening",
            "waitlist_offers": "open",
            "aftercare_checkins": str(ids["aftercare_checkins"][1]),
            "side_effects": f"dizzy-{tag}",
        },
        ids,
        secrets,
    )


def _clinical_rows(
    tag: str, patient: PatientProfile, past: Appointment, future: Appointment, staff: User
) -> tuple[dict[str, tuple[str, int]], list[str]]:
    """A signed note with an addendum and a follow-up, a plan with a score, a waiting-list
    entry with an offer, and a check-in with a side-effect report: the tables added since."""
    note = ClinicalNote(
        appointment_id=past.id,
        patient_id=patient.id,
        practitioner_id=past.practitioner_id,
        author_id=staff.id,
        chief_complaint=f"note-{tag}",
        adverse_events="fainting",
        signed_at=NOW,
        signed_by_id=staff.id,
    )
    plan = TreatmentPlan(
        patient_id=patient.id,
        practitioner_id=past.practitioner_id,
        location_id=past.location_id,
        goal=f"goal-{tag}",
        status=PlanStatus.paused,
        status_reason=f"paused-{tag}",
        measure=OutcomeMeasure.peg3,
        phases=[
            PlanPhase(session_type_id=past.session_type_id, count=6, weekday=1, local_time=time(10))
        ],
    )
    entry = WaitlistEntry(
        patient_id=patient.id,
        session_type_id=past.session_type_id,
        location_id=past.location_id,
        day_parts="evening",
        expires_at=NOW + timedelta(days=60),
    )
    checkin = AftercareCheckin(
        appointment_id=past.id,
        token_hash=hashlib.sha256(f"checkin-{tag}".encode()).hexdigest(),
        expires_at=NOW + timedelta(days=7),
    )
    db.session.add_all([note, plan, entry, checkin])
    db.session.flush()
    addendum = NoteAddendum(note_id=note.id, author_id=staff.id, text=f"addendum-{tag}")
    follow_up = NoteFollowUp(note_id=note.id, events="fainting")
    outcome = OutcomeRecord(
        plan_id=plan.id,
        appointment_id=past.id,
        measure=OutcomeMeasure.peg3,
        item1=7,
        item2=8,
        item3=9,
        score=8.0,
        recorded_by_id=staff.id,
    )
    offer = WaitlistOffer(
        entry_id=entry.id,
        practitioner_id=past.practitioner_id,
        starts_at=NOW + timedelta(days=3),
        token_hash=hashlib.sha256(f"offer-{tag}".encode()).hexdigest(),
        expires_at=NOW + timedelta(days=1),
    )
    report = SideEffectReport(checkin_id=checkin.id, effects="dizziness", detail=f"dizzy-{tag}")
    change = PlanChangeRequest(plan_id=plan.id, patient_id=patient.id, message=f"change-{tag}")
    db.session.add_all([addendum, follow_up, outcome, offer, report, change])
    db.session.add(PlanAppointment(plan_id=plan.id, appointment_id=future.id))
    db.session.flush()
    ids = {
        "clinical_notes": ("note_id", note.id),
        "note_addenda": ("addendum_id", addendum.id),
        "note_follow_ups": ("note_id", note.id),
        "treatment_plans": ("plan_id", plan.id),
        "outcomes": ("outcome_id", outcome.id),
        "plan_change_requests": ("request_id", change.id),
        "waitlist": ("waitlist_id", entry.id),
        "waitlist_offers": ("offer_id", offer.id),
        "aftercare_checkins": ("checkin_id", checkin.id),
        "side_effects": ("report_id", report.id),
    }
    return ids, [checkin.token_hash, offer.token_hash]


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
    for key, (id_key, own) in alex.ids.items():
        assert [row[id_key] for row in export["sections"][key]] == [own], key
        assert alexa.ids[key][1] != own
    assert export["sections"]["treatment_plans"][0]["appointment_ids"] != []
    page = client.get("/patient/data/export")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for key, canary in alex.canaries.items():
        assert canary in html, key
    text = response.get_data(as_text=True) + html
    for canary in ("Alexa", "Morgane", "alexa@", "-alexa"):
        assert canary not in text
    assert "k" * 43 not in text  # the manage link's token is left out
    for secret in alex.secrets + alexa.secrets:
        assert secret not in text
    assert "token" not in response.get_data(as_text=True)
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
        assert all(clinical_before.values()), clinical_before
        plan = db.session.scalar(
            select(TreatmentPlan).where(TreatmentPlan.patient_id == alex.patient_id)
        )
        assert (plan.goal, plan.status_reason, plan.status) == (
            "goal-alex",
            None,
            PlanStatus.cancelled,
        )
        note = db.session.scalar(
            select(ClinicalNote).where(ClinicalNote.patient_id == alex.patient_id)
        )
        assert (note.chief_complaint, note.signed_at) == ("note-alex", NOW)  # signed: untouched
        assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 1  # only Alexa's
        assert db.session.scalar(select(func.count(WaitlistOffer.id))) == 1
        checkins = db.session.scalars(select(AftercareCheckin)).all()
        assert sorted(c.expires_at < NOW for c in checkins) == [False, True]  # Alex's link shut
        rows = _all_text_of(alex.patient_id)
        for canary in (
            "cancel-alex",
            "concern-alex",
            "review-alex",
            "cleared-alex",
            "email-alex",
            "paused-alex",
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
        assert "paused-alexa" in _all_text_of(alexa.patient_id)


def _clinical_counts(patient_id: int) -> dict[str, int]:
    counts = {
        model.__tablename__: db.session.scalar(
            select(func.count()).select_from(model).where(model.patient_id == patient_id)
        )
        for model in (
            Appointment,
            IntakeResponse,
            PatientFlag,
            OutboxMessage,
            ClinicalNote,
            TreatmentPlan,
        )
    }
    notes = select(ClinicalNote.id).where(ClinicalNote.patient_id == patient_id)
    plans = select(TreatmentPlan.id).where(TreatmentPlan.patient_id == patient_id)
    appointments = select(Appointment.id).where(Appointment.patient_id == patient_id)
    checkins = select(AftercareCheckin.id).where(AftercareCheckin.appointment_id.in_(appointments))
    for model, column, owners in (
        (NoteAddendum, NoteAddendum.note_id, notes),
        (NoteFollowUp, NoteFollowUp.note_id, notes),
        (OutcomeRecord, OutcomeRecord.plan_id, plans),
        (PlanPhase, PlanPhase.plan_id, plans),
        (PlanAppointment, PlanAppointment.plan_id, plans),
        (AftercareCheckin, AftercareCheckin.id, checkins),
        (SideEffectReport, SideEffectReport.checkin_id, checkins),
    ):
        counts[model.__tablename__] = db.session.scalar(
            select(func.count()).select_from(model).where(column.in_(owners))
        )
    return counts


def _all_text_of(patient_id: int) -> str:
    """Every row of the patient's own tables, as one string to search for canaries."""
    parts = [repr(db.session.get(PatientProfile, patient_id).__dict__)]
    for model in (Appointment, IntakeResponse, PatientFlag, OutboxMessage, TreatmentPlan):
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
