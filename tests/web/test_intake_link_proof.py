"""The guest intake link opened in a second browser (issue 13 item 4).

The first browser to open the link answers without more ado and keeps its access. Any
other browser must first give the patient's date of birth (5 misses a day, then refused),
never sees submitted answers through the link, and for a draft may carry on answering.
"""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Appointment, AuditEvent, IntakeResponse, PatientProfile, User
from booking.services.intake import reminders
from tests.conftest import DEMO_EMAILS, csrf_from, fresh_csrf
from tests.web.intake_helpers import (
    CALM_ANSWERS,
    PAGE_ORDER,
    Booked,
    book_first_visit,
    new_guest_patient,
)
from tests.web.test_intake_pages import answer, answer_all, start_as_guest, submit

BORN = date(1980, 1, 3)
CANARY = "Canary-7731 sore left ankle"
PROOF = "What is your date of birth?"
NO_MATCH = "Date of birth does not match the one we have for this booking"


def booked_guest(app: Flask, born: date | None = BORN) -> Booked:
    patient_id = new_guest_patient(app)
    with app.app_context():
        db.session.get(PatientProfile, patient_id).date_of_birth = born
        db.session.commit()
    return book_first_visit(app, patient_id)


def first_browser_answers(app: Flask, booked: Booked, *, send: bool) -> tuple[FlaskClient, int]:
    client = app.test_client()
    intake_id = start_as_guest(client, booked.start_url)
    concern = {**CALM_ANSWERS["concern"], "concern": CANARY}
    assert answer(client, intake_id, "concern", concern).status_code == 303
    if send:
        answer_all(client, intake_id, PAGE_ORDER[1:])
        submit(client, intake_id)
    return client, intake_id


def prove(client: FlaskClient, booked: Booked, born: date) -> object:
    return client.post(
        f"{booked.start_url}/prove",
        data={
            "csrf_token": fresh_csrf(client),
            "dob_day": str(born.day),
            "dob_month": str(born.month),
            "dob_year": str(born.year),
        },
    )


def html(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined]


def assert_no_answers(client: FlaskClient, intake_id: int) -> None:
    """Nothing of the intake reaches this browser through any of its pages."""
    for path in ("", "/concern", "/check", "/answers", "/sent", "/urgent", "/saved"):
        response = client.get(f"/intake/{intake_id}{path}", follow_redirects=True)
        assert CANARY not in html(response), path


def test_opening_the_link_in_a_second_browser_does_not_take_the_intake_over(
    demo: Flask,
) -> None:
    booked = booked_guest(demo)
    first, intake_id = first_browser_answers(demo, booked, send=True)
    second = demo.test_client()
    page = second.get(booked.start_url, follow_redirects=True)

    second.post(booked.start_url, data={"csrf_token": csrf_from(html(page))}, follow_redirects=True)

    assert_no_answers(second, intake_id)
    assert CANARY in html(first.get(f"/intake/{intake_id}/answers"))


def test_a_second_browser_is_asked_to_prove_and_never_sees_sent_answers(demo: Flask) -> None:
    booked = booked_guest(demo)
    first, intake_id = first_browser_answers(demo, booked, send=True)
    second = demo.test_client()

    opened = second.get(booked.start_url, follow_redirects=True)

    assert opened.status_code == 200
    assert PROOF in html(opened)
    assert CANARY not in html(opened)
    assert_no_answers(second, intake_id)
    # Pressing "Start" on the link page no longer takes the intake over.
    start = second.post(booked.start_url, data={"csrf_token": csrf_from(html(opened))})
    assert start.headers["Location"].endswith(f"{booked.start_url}/prove")
    assert_no_answers(second, intake_id)

    wrong = prove(second, booked, date(1980, 3, 1))

    assert wrong.status_code == 200
    assert NO_MATCH in html(wrong)
    assert "There is a problem" in html(wrong)
    assert CANARY not in html(wrong)
    assert_no_answers(second, intake_id)

    right = prove(second, booked, BORN)

    # Sent answers are confirmed, not shown; the page says how to see them.
    assert right.status_code == 200
    assert "We have your answers" in html(right)
    assert CANARY not in html(right)
    assert "device you used to answer" in html(right)
    assert_no_answers(second, intake_id)
    # The first browser keeps its access.
    assert CANARY in html(first.get(f"/intake/{intake_id}/answers"))


def test_after_proof_a_second_browser_carries_on_a_draft_and_the_first_keeps_it(
    demo: Flask,
) -> None:
    booked = booked_guest(demo)
    first, intake_id = first_browser_answers(demo, booked, send=False)
    second = demo.test_client()
    assert PROOF in html(second.get(booked.start_url, follow_redirects=True))
    assert_no_answers(second, intake_id)

    right = prove(second, booked, BORN)

    assert right.status_code == 303
    assert right.headers["Location"] == f"/intake/{intake_id}"
    assert CANARY in html(second.get(f"/intake/{intake_id}/concern"))
    assert answer(second, intake_id, "onset", CALM_ANSWERS["onset"]).status_code == 303
    # Both browsers answer the same draft; the link no longer asks the second one.
    assert CANARY in html(first.get(f"/intake/{intake_id}/concern"))
    assert first.get(f"/intake/{intake_id}/pain").status_code == 200
    assert PROOF not in html(second.get(booked.start_url, follow_redirects=True))


def test_five_wrong_dates_of_birth_stop_the_proof_for_a_day(demo: Flask) -> None:
    booked = booked_guest(demo)
    _, intake_id = first_browser_answers(demo, booked, send=False)
    second = demo.test_client()
    for n in range(4):
        assert NO_MATCH in html(prove(second, booked, date(1970, 1, n + 1)))
    fifth = prove(second, booked, date(1970, 1, 5))
    assert fifth.status_code == 429

    refused = prove(demo.test_client(), booked, BORN)  # even the right date, from anywhere

    assert refused.status_code == 429
    assert CANARY not in html(refused)
    assert "call the clinic" in html(refused)
    assert_no_answers(second, intake_id)
    with demo.app_context():
        misses = db.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "intake.link_proof_failed", AuditEvent.object_id == intake_id
            )
        )
    assert misses == 5


def test_a_patient_with_no_date_of_birth_on_record_is_told_to_use_the_first_device(
    demo: Flask,
) -> None:
    booked = booked_guest(demo, born=None)
    _, intake_id = first_browser_answers(demo, booked, send=True)
    second = demo.test_client()
    page = second.get(f"{booked.start_url}/prove")
    assert page.status_code == 200
    assert "device you used" in html(page)
    assert 'name="dob_day"' not in html(page)
    assert_no_answers(second, intake_id)


def test_the_first_browser_after_a_reminder_needs_no_proof(demo: Flask) -> None:
    booked = booked_guest(demo)
    with demo.app_context():
        staff = db.session.scalar(select(User).where(User.email == DEMO_EMAILS["receptionist"]))
        appointment = db.session.get(Appointment, booked.appointment_id)
        reminders.send_reminder(
            appointment,
            actor=staff,
            now=appointment.booked_at,
            secret=demo.config["SECRET_KEY"],
            base_url="https://clinic.example",
            clinic_name="Meridian",
        )
        db.session.commit()
    client = demo.test_client()
    page = client.get(booked.start_url)
    assert PROOF not in html(page)
    intake_id = start_as_guest(client, booked.start_url)
    assert client.get(f"/intake/{intake_id}/concern").status_code == 200
    with demo.app_context():
        assert db.session.get(IntakeResponse, intake_id).guest_key_hash is not None
