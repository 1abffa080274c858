"""A practitioner reaches a patient's clinical record only while she treats them (issue 13.2).

Treating = a booked, checked-in or completed session with her. A cancelled, no-show or held
row grants nothing, and the API lets a practitioner book by id only a patient she already
treats, so booking and cancelling cannot open a stranger's record. Both engines.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, Consent
from booking.services.intake import answers as answers_service
from tests.conftest import csrf_from, freeze_clock
from tests.web.booking_helpers import Demo, demo_ids
from tests.web.intake_helpers import (
    CALM_ANSWERS,
    book_first_visit,
    new_guest_patient,
)
from tests.web.test_api import NOW, bearer, booking_body, make_tokens, new_patient

LoginAs = Callable[[str], FlaskClient]


@pytest.fixture
def api_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    freeze_clock(monkeypatch, NOW)


def _toms_patient_with_intake(demo: Flask) -> tuple[int, int]:
    """A patient of Tom Okafor's with a submitted intake: (patient id, intake id)."""
    booked = book_first_visit(demo, new_guest_patient(demo), practitioner="Tom Okafor")
    now = datetime.now(UTC)
    with demo.app_context():
        intake = answers_service.start_intake(
            db.session.get(Appointment, booked.appointment_id), now=now
        )
        for page_key, values in CALM_ANSWERS.items():
            answers_service.save_page(intake, page_key, values, complete=True, actor=None, now=now)
        answers_service.submit_intake(intake, actor=None, now=now)
        db.session.commit()
        return booked.patient_id, intake.id


def _clinical_statuses(client: FlaskClient, patient_id: int, intake_id: int) -> dict[str, int]:
    """The status of every clinical route a practitioner has, for one patient."""
    consent = f"/practitioner/patients/{patient_id}/consent"
    token = csrf_from(client.get("/practitioner/hours").get_data(as_text=True))
    return {
        "intake": client.get(f"/practitioner/intake/{intake_id}").status_code,
        "health": client.get(f"/practitioner/patients/{patient_id}/health").status_code,
        "consent": client.get(consent).status_code,
        "consent POST": client.post(
            consent, data={"csrf_token": token, "modality": "needling", "method": "paper"}
        ).status_code,
    }


NOT_FOUND = {"intake": 404, "health": 404, "consent": 404, "consent POST": 404}


def _book(api: FlaskClient, token: str, body: dict[str, Any]) -> Any:
    return api.post("/api/v1/appointments", json=body, headers=bearer(token))


def _problem(response: Any) -> dict[str, Any]:
    body = response.get_json()
    body.pop("instance", None)  # the request id
    return body


@pytest.mark.parametrize("ended", ["cancelled", "no_show"])
def test_a_session_that_did_not_happen_grants_no_access(
    demo: Flask, login_as: LoginAs, api_clock: None, ended: str
) -> None:
    patient_id, intake_id = _toms_patient_with_intake(demo)
    ids: Demo = demo_ids(demo)
    tokens = make_tokens(demo)
    api = demo.test_client()
    mei = login_as("practitioner")
    assert _clinical_statuses(mei, patient_id, intake_id) == NOT_FOUND
    # Reception books Tom's patient with Mei: while it is booked, Mei treats them.
    made = _book(api, tokens["receptionist"], booking_body(ids, patient={"id": patient_id}))
    assert made.status_code == 201, made.get_json()
    appointment_id = made.get_json()["id"]
    assert mei.get(f"/practitioner/patients/{patient_id}/health").status_code == 200
    if ended == "cancelled":
        # Mei may cancel a session in her own calendar through the API...
        cancelled = api.post(
            f"/api/v1/appointments/{appointment_id}/cancel", headers=bearer(tokens["practitioner"])
        )
        assert cancelled.status_code == 200
    else:
        with demo.app_context():
            db.session.get(Appointment, appointment_id).status = AppointmentStatus.no_show
            db.session.commit()
    # ...and the row left behind grants nothing.
    assert _clinical_statuses(mei, patient_id, intake_id) == NOT_FOUND
    with demo.app_context():
        assert (
            db.session.scalar(
                select(func.count(Consent.id)).where(
                    Consent.patient_id == patient_id, Consent.method == "paper"
                )
            )
            == 0
        )


def test_a_practitioner_cannot_book_a_patient_she_does_not_treat(
    demo: Flask, login_as: LoginAs, api_clock: None
) -> None:
    # The probe: Mei books Tom's patient by id into her own calendar (then would cancel it).
    patient_id, intake_id = _toms_patient_with_intake(demo)
    ids: Demo = demo_ids(demo)
    tokens = make_tokens(demo)
    api = demo.test_client()
    with demo.app_context():
        before = db.session.scalar(select(func.count(Appointment.id)))
    refused = _book(api, tokens["practitioner"], booking_body(ids, patient={"id": patient_id}))
    unknown = _book(api, tokens["practitioner"], booking_body(ids, patient={"id": 999_999}))
    # Answered exactly as for a patient that does not exist: nothing says this one does.
    assert refused.status_code == unknown.status_code == 422
    assert refused.mimetype == "application/problem+json"
    assert _problem(refused) == _problem(unknown)
    assert [e["field"] for e in refused.get_json()["errors"]] == ["patient.id"]
    with demo.app_context():
        assert db.session.scalar(select(func.count(Appointment.id))) == before
    assert _clinical_statuses(login_as("practitioner"), patient_id, intake_id) == NOT_FOUND


def test_receptionists_book_anyone_and_practitioners_the_patients_they_treat(
    demo: Flask, api_clock: None
) -> None:
    patient_id, _ = _toms_patient_with_intake(demo)
    ids: Demo = demo_ids(demo)
    tokens = make_tokens(demo)
    api = demo.test_client()
    first = _book(api, tokens["receptionist"], booking_body(ids, patient={"id": patient_id}))
    assert first.status_code == 201, first.get_json()
    # Now Mei treats them (a booked session with her): she may book their next session.
    later = booking_body(ids, patient={"id": patient_id}, start="2027-03-10T10:00:00+00:00")
    again = _book(api, tokens["practitioner"], later)
    assert again.status_code == 201, again.get_json()
    assert again.get_json()["patient_id"] == patient_id
    # A new patient created in the request is always hers to book.
    fresh = booking_body(ids, patient=new_patient(), start="2027-03-10T11:00:00+00:00")
    assert _book(api, tokens["practitioner"], fresh).status_code == 201
    # Once both her sessions with them are cancelled she no longer treats them.
    for made in (first, again):
        path = f"/api/v1/appointments/{made.get_json()['id']}/cancel"
        assert api.post(path, headers=bearer(tokens["receptionist"])).status_code == 200
    third = booking_body(ids, patient={"id": patient_id}, start="2027-03-17T10:00:00+00:00")
    assert _book(api, tokens["practitioner"], third).status_code == 422
    # Admins do not book at all (domain.md §6).
    assert _book(api, tokens["admin"], third).status_code == 403
