"""No personal data in the client-side session cookie (issue 13 item 8, security.md S1).

Flask's session is a signed, not encrypted, cookie: anyone holding it can read it. After every
step of flows that write to the session or flash a message, the cookie is decoded with the
app's own serializer and searched for a canary patient's name, email, date of birth and phone.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient

from booking.extensions import db
from booking.models import Appointment, PatientProfile
from booking.services.intake import answers as answers_service
from tests.conftest import csrf_from
from tests.web.booking_helpers import Clock, demo_ids, post, text, to_time
from tests.web.booking_helpers import hold as hold_time
from tests.web.intake_helpers import CALM_ANSWERS, book_first_visit

GIVEN, FAMILY = "Ysolde", "Brackenhurst"
EMAIL = "ysolde.canary@example.com"
PHONE_TYPED, PHONE_STORED = "07400 900 457", "+447400900457"
DOB = ("17", "apr", "1981")
CANARIES = (GIVEN, FAMILY, EMAIL, "ysolde", PHONE_TYPED, PHONE_STORED, "7400900457", "1981")

LoginAs = Callable[[str], FlaskClient]


def session_text(app: Flask, client: FlaskClient) -> str:
    """The decoded session cookie as text ('' when there is none)."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    if cookie is None:
        return ""
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    return json.dumps(serializer.loads(cookie.value), default=str)


def assert_no_canary(app: Flask, client: FlaskClient, where: str) -> None:
    data = session_text(app, client)
    for canary in CANARIES:
        assert canary.lower() not in data.lower(), (where, canary, data)


@pytest.mark.matrix("S1")
def test_the_booking_journey_keeps_personal_data_out_of_the_cookie(
    demo: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    ids = demo_ids(demo)
    client = demo.test_client()
    to_time(client, ids)
    assert hold_time(client).status_code == 303
    steps = (
        ("/book/returning", {"returning": "no"}),
        ("/book/name", {"given_name": GIVEN, "family_name": FAMILY}),
        ("/book/date-of-birth", dict(zip(("dob_day", "dob_month", "dob_year"), DOB, strict=True))),
        ("/book/contact", {"email": EMAIL, "phone": PHONE_TYPED}),
        ("/book/contact-preference", {"contact_preference": "email"}),
        ("/book/safety", {"safety": "no"}),
    )
    for path, data in steps:
        response = post(client, path, data)
        assert response.status_code == 303, (path, text(response)[:500])
        assert_no_canary(demo, client, path)
    # "Hold it for 10 more minutes" flashes a message: read the cookie before it is shown.
    clock.advance(minutes=5)
    assert post(client, "/book/hold", {"next": "/book/check"}).status_code == 303
    assert_no_canary(demo, client, "/book/hold")
    assert GIVEN in text(client.get("/book/check"))  # the answers are kept, on the server
    assert_no_canary(demo, client, "/book/check")
    response = post(client, "/book/check")
    assert response.headers["Location"].endswith("/book/confirmation")
    assert_no_canary(demo, client, "confirm")
    client.get("/book/confirmation")
    assert_no_canary(demo, client, "/book/confirmation")


def _canary_patient(app: Flask) -> int:
    with app.app_context():
        patient = PatientProfile(
            given_name=GIVEN, family_name=FAMILY, email=EMAIL, phone=PHONE_STORED
        )
        db.session.add(patient)
        db.session.commit()
        return patient.id


def _submitted_intake(app: Flask, patient_id: int) -> int:
    booked = book_first_visit(app, patient_id)
    now = datetime.now(UTC)
    with app.app_context():
        intake = answers_service.start_intake(
            db.session.get(Appointment, booked.appointment_id), now=now
        )
        for page_key, values in CALM_ANSWERS.items():
            answers_service.save_page(intake, page_key, values, complete=True, actor=None, now=now)
        answers_service.submit_intake(intake, actor=None, now=now)
        db.session.commit()
        return intake.id


@pytest.mark.matrix("S1")
def test_reception_messages_about_a_patient_keep_them_out_of_the_cookie(
    demo: Flask, login_as: LoginAs
) -> None:
    patient_id = _canary_patient(demo)
    intake_id = _submitted_intake(demo, patient_id)
    awaiting = book_first_visit(demo, patient_id)
    reception = login_as("receptionist")

    def submit(path: str, data: dict[str, str], form_path: str | None = None) -> str:
        page = reception.get(form_path or path).get_data(as_text=True)
        response = reception.post(path, data={"csrf_token": csrf_from(page), **data})
        assert response.status_code == 303, (path, response.status_code)
        # The flash waits in the cookie until the next page shows it.
        assert_no_canary(demo, reception, path)
        shown = text(reception.get(response.headers["Location"]))
        assert_no_canary(demo, reception, response.headers["Location"])
        return shown

    reviewed = submit(f"/reception/intake/{intake_id}", {"comment": "Spoke to the patient"})
    assert "marked as reviewed" in reviewed
    consented = submit(
        f"/reception/patients/{patient_id}/consent", {"modality": "cupping", "method": "paper"}
    )
    assert "Consent to cupping recorded" in consented
    reminded = submit(
        f"/reception/intake/remind/{awaiting.appointment_id}", {}, form_path="/reception/intake"
    )
    assert "Reminder sent" in reminded


PERSONAL_ATTRIBUTES = {
    "full_name",
    "given_name",
    "family_name",
    "email",
    "phone",
    "date_of_birth",
}


def test_no_flash_message_is_built_from_personal_fields() -> None:
    """A new flash naming a patient fails here before it reaches anyone's cookie."""
    package = Path(__file__).resolve().parents[2] / "booking"
    offenders = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            is_flash = isinstance(node, ast.Call) and getattr(node.func, "id", None) == "flash"
            if not is_flash:
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Attribute) and inner.attr in PERSONAL_ATTRIBUTES:
                    offenders.append(f"{path.relative_to(package.parent)}:{node.lineno}")
    assert offenders == []
