"""The waitlist and the post-treatment check-in through their pages, on both engines.

A London clinic whose only free time is Wednesday 10:00: a cancellation offers it to the two
guests waiting, the first to confirm books it and the other is told it has gone; reception
manages the list; the check-in email goes once and its report reaches the practitioner's day
and reception's follow-up list. No email carries an intake answer, flag or staff note.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    AftercareCheckin,
    Appointment,
    AppointmentStatus,
    FlagSeverity,
    OutboxMessage,
    PatientFlag,
    Role,
    WaitlistEntry,
)
from booking.services.booking.changes import cancel_appointment
from tests.conftest import FrozenClock, csrf_from, sign_in
from tests.factories import (
    PASSWORD,
    make_appointment,
    make_hours,
    make_intake,
    make_location,
    make_patient,
    make_practitioner,
    make_session_type,
    make_user,
    the_clinic,
)
from tests.smtp import smtp_server

NOW = datetime(2027, 4, 12, 7, 0, tzinfo=UTC)  # Monday 12 April 2027, 08:00 in London
SLOT = datetime(2027, 4, 14, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in London
CANARY = "Canary-migraine-9Z"  # an intake answer, a flag code and a staff note carry it


@pytest.fixture
def clinic(app: Flask, frozen_clock: FrozenClock) -> dict[str, int]:
    frozen_clock.now = NOW
    with app.app_context():
        the_clinic()
        location = make_location(phone="020 7946 0000")
        session_type = make_session_type(name="Acupuncture")
        mei = make_practitioner(display_name="Mei Lin", session_types=[session_type])
        make_hours(practitioner=mei, location=location, weekdays=[2], start="10:00", end="10:30")
        booked = make_appointment(
            starts_at=SLOT, practitioner=mei, location=location, session_type=session_type
        )
        make_user(role=Role.receptionist, email="desk@example.com")
        db.session.commit()
        return {
            "location": location.id,
            "type": session_type.id,
            "mei": mei.id,
            "booked": booked.id,
            "mei_user": mei.user_id,
        }


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _post(client: FlaskClient, path: str, data: dict[str, object]) -> object:
    token = csrf_from(_page(client, path))
    return client.post(path, data={"csrf_token": token, **data})


def _button(client: FlaskClient, page: str, action: str) -> None:
    """Press a POST button shown on `page`, then follow back."""
    token = csrf_from(_page(client, page))
    response = client.post(action, data={"csrf_token": token})
    assert response.status_code == 303, (action, response.status_code)


def _guest_joins(app: Flask, ids: dict[str, int], name: str) -> None:
    client = app.test_client()
    response = _post(
        client,
        f"/waitlist/join?session_type={ids['type']}&location={ids['location']}&practitioner=any",
        {
            "given_name": name,
            "family_name": "Guest",
            "email": f"{name.lower()}@example.com",
            "session_type": str(ids["type"]),
            "location": str(ids["location"]),
            "practitioner": "any",
            "weekdays": ["2"],
            "day_parts": ["morning"],
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]  # type: ignore[attr-defined]
    assert "You are on the waitlist" in _page(client, response.headers["Location"])  # type: ignore[attr-defined]


def _cancel(app: Flask, appointment_id: int, reason: str = "Sick") -> None:
    with app.app_context():
        cancel_appointment(
            db.session.get_one(Appointment, appointment_id),
            now=NOW,
            actor=None,
            by_staff=True,
            reason=reason,
            base_url="http://127.0.0.1:5000",
            clinic_name="Test Clinic",
        )
        db.session.commit()


def _emails(app: Flask, kind: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
            )
        )
        db.session.expunge_all()
        return rows


def _link(message: OutboxMessage, marker: str) -> str:
    return marker + message.body_text.split(marker, 1)[1].split()[0]


def test_a_cancellation_offers_both_and_the_first_to_confirm_books(
    app: Flask, clinic: dict[str, int]
) -> None:
    _guest_joins(app, clinic, "Ada")
    _guest_joins(app, clinic, "Ben")
    _cancel(app, clinic["booked"])
    offers = _emails(app, "waitlist.offer")
    assert [m.recipient for m in offers] == ["ada@example.com", "ben@example.com"]
    ada, ben = (app.test_client() for _ in range(2))
    ada_link, ben_link = (_link(m, "/waitlist/offer/") for m in offers)
    page = _page(ben, ben_link)
    assert "A time has come up" in page
    assert "Wednesday 14 April 2027 at 10am" in page
    response = ben.post(ben_link, data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    assert "Your session is booked" in _page(ben, ben_link)
    taken = _page(ada, ada_link)
    assert "Sorry, this time has already been taken" in taken
    assert "Wednesday 21 April 2027 at 10am" in taken  # the nearest free time
    with app.app_context():
        booked = db.session.scalars(
            select(Appointment).where(
                Appointment.starts_at == SLOT, Appointment.status == AppointmentStatus.booked
            )
        ).all()
        assert [a.patient.email for a in booked] == ["ben@example.com"]
    assert [m.recipient for m in _emails(app, "appointment.confirmation")] == ["ben@example.com"]
    # A stale page posted later books nothing either.
    assert ben.post(ada_link, data={"csrf_token": csrf_from(page)}).status_code == 409
    assert app.test_client().get("/waitlist/offer/not-a-token").status_code == 404


def test_a_signed_in_patient_is_sent_to_their_own_waitlist(
    app: Flask, clinic: dict[str, int]
) -> None:
    with app.app_context():
        user = make_user(role=Role.patient, email="pat@example.com")
        make_patient(user_id=user.id, email="pat@example.com", given_name="Pat")
        db.session.commit()
    client = app.test_client()
    assert sign_in(client, "pat@example.com", PASSWORD).status_code == 302
    response = client.get(f"/waitlist/join?session_type={clinic['type']}")
    assert response.headers["Location"] == f"/patient/waitlist?session_type={clinic['type']}"
    page = _page(client, response.headers["Location"])
    assert f'value="{clinic["type"]}" checked' in page  # carried from the "no times" page
    response = _post(
        client,
        "/patient/waitlist",
        {"session_type": str(clinic["type"]), "location": str(clinic["location"])},
    )
    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "There is a problem" in page
    assert "Select a practitioner, or any practitioner" in page
    _post(
        client,
        "/patient/waitlist",
        {
            "session_type": str(clinic["type"]),
            "location": str(clinic["location"]),
            "practitioner": str(clinic["mei"]),
        },
    )
    page = _page(client, "/patient/waitlist")
    assert "You are waiting for" in page
    with app.app_context():
        entry_id = db.session.scalar(select(WaitlistEntry.id))
    _button(client, "/patient/waitlist", f"/patient/waitlist/{entry_id}/remove")
    assert "You are waiting for" not in _page(client, "/patient/waitlist")


def test_reception_adds_lists_and_removes(app: Flask, clinic: dict[str, int]) -> None:
    with app.app_context():
        make_patient(email="kim@example.com", given_name="Kim", family_name="Lee")
        db.session.commit()
    desk = app.test_client()
    sign_in(desk, "desk@example.com", PASSWORD)
    base = {
        "session_type": str(clinic["type"]),
        "location": str(clinic["location"]),
        "practitioner": "any",
    }
    response = _post(
        desk, "/reception/waitlist/new", {**base, "email": "nobody@example.com", "given_name": "X"}
    )
    assert "No patient has that email address and first name" in response.get_data(as_text=True)  # type: ignore[attr-defined]
    response = _post(
        desk, "/reception/waitlist/new", {**base, "email": "KIM@example.com", "given_name": "kim"}
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    page = _page(desk, "/reception/waitlist")
    assert "Kim Lee" in page
    assert "(by reception)" in page
    with app.app_context():
        entry_id = db.session.scalar(select(WaitlistEntry.id))
    _button(desk, "/reception/waitlist", f"/reception/waitlist/{entry_id}/remove")
    assert "No one is waiting" in _page(desk, "/reception/waitlist")


def test_the_check_in_goes_once_and_its_report_reaches_the_day_view_and_reception(
    app: Flask, clinic: dict[str, int], frozen_clock: FrozenClock
) -> None:
    with app.app_context():
        patient = make_patient(email="first@example.com", given_name="Fay")
        session_type = db.session.get_one(Appointment, clinic["booked"]).session_type
        first = make_appointment(
            starts_at=NOW - timedelta(hours=30),
            practitioner=db.session.get_one(Appointment, clinic["booked"]).practitioner,
            session_type=session_type,
            patient=patient,
            status=AppointmentStatus.completed,
            is_first_visit=True,
            cancel_reason=CANARY,
        )
        make_intake(appointment=first, answers={"concern": CANARY})
        db.session.add(
            PatientFlag(
                patient_id=patient.id,
                code=CANARY,
                severity=FlagSeverity.precaution,
                source="intake",
            )
        )
        db.session.commit()
    runner = app.test_cli_runner()
    with smtp_server() as (inbox, port):
        app.config.update(SMTP_PORT=port)
        for _ in range(2):
            result = runner.invoke(args=["send-outbox"])
            assert result.exit_code == 0, result.output
        frozen_clock.advance(hours=12)  # still inside 24-48 hours: planned already, not again
        runner.invoke(args=["send-outbox"])
    checkins = [m for m in inbox.messages if "How are you feeling" in m["Subject"]]
    assert len(checkins) == 1
    body = checkins[0].get_content()
    assert "Hello Fay," in body
    assert CANARY not in body
    assert CANARY not in checkins[0]["Subject"]
    link = _link(_emails(app, "aftercare.checkin")[0], "/aftercare/")
    client = app.test_client()
    page = _page(client, link)
    assert "How are you feeling?" in page
    response = client.post(link, data={"csrf_token": csrf_from(page), "effects": ["other"]})
    assert "Describe what else you have noticed" in response.get_data(as_text=True)
    response = client.post(
        link,
        data={
            "csrf_token": csrf_from(page),
            "effects": ["bruising", "fainting"],
            "detail": "Felt faint on the bus",
        },
    )
    assert response.status_code == 303
    assert "Thank you for telling us" in _page(client, response.headers["Location"])
    desk = app.test_client()
    sign_in(desk, "desk@example.com", PASSWORD)
    follow_ups = _page(desk, "/reception/follow-ups")
    assert "Fay" in follow_ups
    assert "Bruising, Fainting or feeling faint" in follow_ups
    assert "Felt faint on the bus" in follow_ups
    with app.app_context():
        mei_email = db.session.get_one(AftercareCheckin, 1).appointment.practitioner.user.email
    practitioner = app.test_client()
    sign_in(practitioner, mei_email, PASSWORD)
    assert "Felt faint on the bus" in _page(practitioner, "/practitioner/")
    with app.app_context():
        from booking.models import SideEffectReport

        report_id = db.session.scalar(select(SideEffectReport.id))
    _button(desk, "/reception/follow-ups", f"/reception/follow-ups/{report_id}/done")
    assert "Nothing to follow up" in _page(desk, "/reception/follow-ups")
    assert app.test_client().get("/aftercare/not-a-token").status_code == 404


def test_offer_and_check_in_emails_carry_nothing_clinical(
    app: Flask, clinic: dict[str, int]
) -> None:
    """Every offer and check-in body and subject, for a patient with answers, flags and notes."""
    with app.app_context():
        patient = make_patient(email="canary@example.com")
        appointment = db.session.get_one(Appointment, clinic["booked"])
        make_intake(appointment=appointment, answers={"concern": CANARY})
        db.session.add(
            PatientFlag(
                patient_id=patient.id, code=CANARY, severity=FlagSeverity.red_flag, source="x"
            )
        )
        db.session.add(
            WaitlistEntry(
                patient_id=patient.id,
                session_type_id=clinic["type"],
                location_id=clinic["location"],
                expires_at=NOW + timedelta(days=1),
            )
        )
        db.session.commit()
        patient_id = patient.id
    _cancel(app, clinic["booked"], reason=CANARY)
    with app.app_context():
        from booking.services.aftercare.planning import plan_checkins

        first = db.session.get_one(Appointment, clinic["booked"])
        first.status = AppointmentStatus.completed
        first.is_first_visit = True
        first.patient_id = patient_id
        plan_checkins(now=SLOT + timedelta(hours=30), base_url="http://x", clinic_name="C")
        db.session.commit()
    messages = _emails(app, "waitlist.offer") + _emails(app, "aftercare.checkin")
    assert {m.kind for m in messages} == {"waitlist.offer", "aftercare.checkin"}
    for message in messages:
        for text in (message.subject, message.body_text):
            assert CANARY not in text
            assert "concern" not in text
