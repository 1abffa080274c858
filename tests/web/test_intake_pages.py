"""Intake pages through the test client: guests, patients, staff, audit, logs (CSRF on)."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.domain.scheduling.dst import day_bounds, local_today
from booking.extensions import db
from booking.log import JsonFormatter
from booking.models import (
    Appointment,
    AuditEvent,
    Consent,
    IntakeResponse,
    IntakeStatus,
    OutboxMessage,
    User,
)
from booking.services.clinic.settings import clinic_zone
from booking.services.intake import answers
from tests.conftest import DEMO_EMAILS, csrf_from, sign_in
from tests.web.booking_helpers import BANNED
from tests.web.intake_helpers import (
    CALM_ANSWERS,
    PAGE_ORDER,
    book_first_visit,
    demo_patient_id,
    guest_patient_id,
    new_guest_patient,
    patient_with_account,
)

LoginAs = Callable[[str], FlaskClient]


def _csrf(client: FlaskClient, path: str) -> str:
    return csrf_from(client.get(path, follow_redirects=True).get_data(as_text=True))


def start_as_guest(client: FlaskClient, start_url: str) -> int:
    token = _csrf(client, start_url)
    response = client.post(start_url, data={"csrf_token": token})
    assert response.status_code == 303
    match = re.search(r"/intake/(\d+)", response.headers["Location"])
    assert match
    return int(match.group(1))


def answer(client: FlaskClient, intake_id: int, page_key: str, values: dict, **extra: str):
    token = _csrf(client, f"/intake/{intake_id}/{page_key}")
    return client.post(
        f"/intake/{intake_id}/{page_key}", data={"csrf_token": token, **values, **extra}
    )


def answer_all(client: FlaskClient, intake_id: int, pages: list[str] = PAGE_ORDER) -> None:
    for page_key in pages:
        response = answer(client, intake_id, page_key, CALM_ANSWERS[page_key])
        assert response.status_code == 303, (page_key, response.get_data(as_text=True)[:300])


def submit(client: FlaskClient, intake_id: int) -> None:
    token = _csrf(client, f"/intake/{intake_id}/check")
    response = client.post(f"/intake/{intake_id}/check", data={"csrf_token": token})
    assert response.headers["Location"].endswith(f"/intake/{intake_id}/sent")


def _audit_rows(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


# ---- The confirmation hook --------------------------------------------------------------------


def test_confirmation_points_first_visits_to_the_intake(demo: Flask) -> None:
    from booking.book.intake_link import next_step_after_booking

    first = book_first_visit(demo, guest_patient_id(demo))
    follow_up = book_first_visit(demo, guest_patient_id(demo), first_visit=False)
    with demo.test_request_context():
        text, url = next_step_after_booking(db.session.get(Appointment, first.appointment_id))
        assert text == "Answer the health questions"
        assert url == first.start_url
        assert (
            next_step_after_booking(db.session.get(Appointment, follow_up.appointment_id)) is None
        )


# ---- A guest answers everything -----------------------------------------------------------------


def test_guest_completes_the_intake(demo: Flask) -> None:
    booked = book_first_visit(demo, guest_patient_id(demo))
    client = demo.test_client()
    response = client.get(booked.start_url)
    assert response.headers["Cache-Control"] == "no-store"
    start_page = response.get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Answer the health questions</h1>' in start_page
    intake_id = start_as_guest(client, booked.start_url)
    assert client.get(f"/intake/{intake_id}").headers["Location"].endswith("/concern")
    answer_all(client, intake_id)
    check = client.get(f"/intake/{intake_id}/check").get_data(as_text=True)
    assert "Stiff lower back after long drives" in check
    assert "5 out of 10" in check
    submit(client, intake_id)
    sent = client.get(f"/intake/{intake_id}/sent").get_data(as_text=True)
    assert "Answers sent" in sent
    # Sent answers read back; the question pages no longer take changes.
    assert client.get(f"/intake/{intake_id}/onset").headers["Location"].endswith("/answers")
    with demo.app_context():
        intake = db.session.get(IntakeResponse, intake_id)
        assert intake.status == IntakeStatus.submitted
        assert db.session.scalar(select(func.count()).select_from(Consent)) == 1


def test_page_errors_use_the_catalogue(demo: Flask) -> None:
    booked = book_first_visit(demo, guest_patient_id(demo))
    client = demo.test_client()
    intake_id = start_as_guest(client, booked.start_url)
    for page_key in PAGE_ORDER:
        response = answer(client, intake_id, page_key, {})
        html = response.get_data(as_text=True)
        if page_key == "gp":  # every question there is optional
            assert response.status_code == 303
            continue
        assert response.status_code == 200, page_key
        assert "<title>Error: " in html
        assert "There is a problem" in html
        messages = re.findall(r'<a href="#[^"]+">([^<]+)</a>', html)
        assert messages, page_key
        for message in messages:
            assert not any(word in message.lower() for word in BANNED), message
        answer(client, intake_id, page_key, CALM_ANSWERS[page_key])
    exclusive = answer(client, intake_id, "allergies", {"allergies": ["none", "metal"]})
    assert "on its own" in exclusive.get_data(as_text=True)
    too_long = answer(client, intake_id, "gp", {"gp_name": "x" * 101})
    assert "must be 100 characters or fewer" in too_long.get_data(as_text=True)
    tampered = answer(client, intake_id, "pain", {"pain_now": "11", "pain_average": "5"})
    assert "Select a number from 0 to 10 for your pain right now" in tampered.get_data(as_text=True)


def test_pain_is_eleven_radios_and_pages_ask_one_topic(demo: Flask) -> None:
    booked = book_first_visit(demo, guest_patient_id(demo))
    client = demo.test_client()
    intake_id = start_as_guest(client, booked.start_url)
    answer_all(client, intake_id, PAGE_ORDER[:2])
    html = client.get(f"/intake/{intake_id}/pain").get_data(as_text=True)
    assert len(re.findall(r'<input[^>]*name="pain_now"[^>]*type="radio"', html)) == 11
    assert 'type="range"' not in html
    assert " required" not in html
    assert html.count("<h1") == 1


@pytest.mark.parametrize("key", list(CALM_ANSWERS["warning_signs"]))
def test_each_red_flag_shows_urgent_advice_and_queues_urgently(
    demo: Flask, login_as: LoginAs, key: str
) -> None:
    routine = book_first_visit(demo, guest_patient_id(demo))
    booked = book_first_visit(demo, demo_patient_id(demo))
    guest = demo.test_client()
    routine_id = start_as_guest(guest, routine.start_url)
    answer_all(guest, routine_id)
    submit(guest, routine_id)

    client = demo.test_client()
    intake_id = start_as_guest(client, booked.start_url)
    answer_all(client, intake_id, PAGE_ORDER[:4])
    response = answer(
        client, intake_id, "warning_signs", {**CALM_ANSWERS["warning_signs"], key: "yes"}
    )
    assert response.headers["Location"].endswith(f"/intake/{intake_id}/urgent")
    card = client.get(f"/intake/{intake_id}/urgent").get_data(as_text=True)
    assert "Get medical advice today" in card
    for words in ("999", "NHS 111", "GP"):
        assert words in card
    # Nothing is lost: the patient goes on to the next page and can finish.
    assert f"/intake/{intake_id}/medical_history" in card
    answer_all(client, intake_id, PAGE_ORDER[5:])
    submit(client, intake_id)

    queue = login_as("receptionist").get("/reception/intake").get_data(as_text=True)
    assert "Intake forms to review (2)" in queue
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", queue, re.S)[1:]
    assert "Alex Morgan" in rows[0]
    assert "Urgent" in rows[0]
    assert "Routine" in rows[1]


# ---- Save and resume ----------------------------------------------------------------------------


def test_abandon_on_page_4_sign_in_again_and_land_on_page_4(demo: Flask, login_as: LoginAs) -> None:
    booked = book_first_visit(demo, demo_patient_id(demo))
    client = login_as("patient")
    index = client.get("/intake/").get_data(as_text=True)
    assert "Answer the health questions" in index
    token = csrf_from(index)
    response = client.post(f"/intake/start/{booked.appointment_id}", data={"csrf_token": token})
    intake_id = int(re.search(r"/intake/(\d+)", response.headers["Location"]).group(1))
    answer_all(client, intake_id, PAGE_ORDER[:3])
    page_4 = client.get(f"/intake/{intake_id}/daily_life")
    assert page_4.status_code == 200  # abandoned here: the browser closes, the session ends

    again = demo.test_client()
    bounced = again.get(f"/intake/{intake_id}/daily_life")
    assert "/auth/sign-in" in bounced.headers["Location"]
    sign_in(again, DEMO_EMAILS["patient"])
    resumed = again.get(f"/intake/{intake_id}")
    assert resumed.headers["Location"].endswith(f"/intake/{intake_id}/daily_life")
    assert "Continue your answers" in again.get("/intake/").get_data(as_text=True)
    page_1 = again.get(f"/intake/{intake_id}/concern").get_data(as_text=True)
    assert "Stiff lower back after long drives" in page_1
    assert 'value="lower_back" checked' in page_1
    assert 'value="3_to_12_months" checked' in again.get(f"/intake/{intake_id}/onset").get_data(
        as_text=True
    )
    # A later page stays out of reach until page 4 is answered.
    assert again.get(f"/intake/{intake_id}/skin").headers["Location"].endswith("/daily_life")


def test_save_and_come_back_later_keeps_a_partial_page(demo: Flask) -> None:
    booked = book_first_visit(demo, guest_patient_id(demo))
    client = demo.test_client()
    intake_id = start_as_guest(client, booked.start_url)
    response = answer(
        client,
        intake_id,
        "concern",
        {"concern": "Neck pain"},
        save_later="Save and come back later",
    )
    assert response.headers["Location"].endswith(f"/intake/{intake_id}/saved")
    assert "Your answers have been saved" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert client.get(f"/intake/{intake_id}").headers["Location"].endswith("/concern")
    assert "Neck pain" in client.get(f"/intake/{intake_id}/concern").get_data(as_text=True)


# ---- Access -------------------------------------------------------------------------------------


def test_patients_see_only_their_own_intake(demo: Flask, login_as: LoginAs) -> None:
    booked = book_first_visit(demo, demo_patient_id(demo))
    owner = login_as("patient")
    token = csrf_from(owner.get("/intake/").get_data(as_text=True))
    response = owner.post(f"/intake/start/{booked.appointment_id}", data={"csrf_token": token})
    intake_id = int(re.search(r"/intake/(\d+)", response.headers["Location"]).group(1))
    assert owner.get(f"/intake/{intake_id}/concern").status_code == 200

    patient_with_account(demo, "sam.rivers@meridian.example")
    other = demo.test_client()
    sign_in(other, "sam.rivers@meridian.example")
    for path in ("", "/concern", "/check", "/answers", "/urgent", "/saved"):
        assert other.get(f"/intake/{intake_id}{path}").status_code == 404, path
    assert (
        other.post(
            f"/intake/start/{booked.appointment_id}", data={"csrf_token": _csrf(other, "/intake/")}
        ).status_code
        == 404
    )
    # Even holding the guest link, another account is refused.
    link = other.post(booked.start_url, data={"csrf_token": _csrf(other, "/intake/")})
    assert other.get(link.headers["Location"]).status_code == 404
    # A browser without the link is sent to sign in.
    assert demo.test_client().get(f"/intake/{intake_id}/concern").status_code == 302


def test_guest_intake_is_bound_to_the_browser_that_opened_the_link(demo: Flask) -> None:
    booked = book_first_visit(demo, guest_patient_id(demo))
    client = demo.test_client()
    intake_id = start_as_guest(client, booked.start_url)
    stranger = demo.test_client()
    assert stranger.get(f"/intake/{intake_id}/concern").status_code == 302
    assert stranger.get(f"/intake/start/{booked.appointment_id}/wrong-token").status_code == 404


def _submitted_intake(demo: Flask, practitioner: str = "Mei Lin Chen") -> tuple[int, int]:
    booked = book_first_visit(demo, new_guest_patient(demo), practitioner=practitioner)
    client = demo.test_client()
    intake_id = start_as_guest(client, booked.start_url)
    answer_all(client, intake_id)
    submit(client, intake_id)
    return intake_id, booked.patient_id


def test_staff_access_to_intake(demo: Flask, login_as: LoginAs) -> None:
    mine, my_patient = _submitted_intake(demo, "Mei Lin Chen")
    theirs, their_patient = _submitted_intake(demo, "Tom Okafor")
    mei = login_as("practitioner")
    assert mei.get(f"/practitioner/intake/{mine}").status_code == 200
    assert mei.get(f"/practitioner/patients/{my_patient}/health").status_code == 200
    assert mei.get(f"/practitioner/intake/{theirs}").status_code == 404
    assert mei.get(f"/practitioner/patients/{their_patient}/health").status_code == 404
    reception = login_as("receptionist")
    for intake_id in (mine, theirs):
        assert reception.get(f"/reception/intake/{intake_id}").status_code == 200
    admin = login_as("admin")
    assert admin.get(f"/reception/intake/{mine}").status_code == 403
    assert admin.get(f"/practitioner/intake/{mine}").status_code == 403
    assert admin.get(f"/intake/{mine}/answers").status_code == 403
    assert reception.get(f"/intake/{mine}/answers").status_code == 403


@pytest.mark.parametrize(
    ("role", "path", "action"),
    [
        ("receptionist", "/reception/intake/{intake}", "intake.read"),
        ("receptionist", "/reception/patients/{patient}/health", "flags.read"),
        ("practitioner", "/practitioner/intake/{intake}", "intake.read"),
        ("practitioner", "/practitioner/patients/{patient}/health", "flags.read"),
    ],
)
def test_each_staff_read_writes_one_audit_row(
    demo: Flask, login_as: LoginAs, role: str, path: str, action: str
) -> None:
    intake_id, patient_id = _submitted_intake(demo)
    client = login_as(role)
    url = path.format(intake=intake_id, patient=patient_id)
    response = client.get(url, headers={"X-Request-Id": "audit-check-1"})
    assert response.status_code == 200
    rows = _audit_rows(demo, action)
    assert len(rows) == 1
    row = rows[0]
    assert (row.patient_id, row.actor_role, row.request_id) == (patient_id, role, "audit-check-1")
    with demo.app_context():
        assert db.session.get(User, row.actor_user_id).email == DEMO_EMAILS[role]
    client.get(url)
    assert len(_audit_rows(demo, action)) == 2
    # A refused read writes no read row.
    client.get(path.format(intake=999999, patient=999999))
    assert len(_audit_rows(demo, action)) == 2


@pytest.mark.parametrize(
    ("location", "practitioner", "present", "absent"),
    [
        ("islington", "Mei Lin Chen", ("999", "NHS 111", "GP"), ("112",)),
        ("dublin", "Aoife Byrne", ("112", "999", "GP out-of-hours"), ("NHS 111",)),
    ],
)
def test_urgent_advice_names_the_services_of_the_patients_country(
    demo: Flask, location: str, practitioner: str, present: tuple, absent: tuple
) -> None:
    # NHS 111 does not exist in Ireland: a Dublin patient is sent to 112/999 and out-of-hours.
    client = demo.test_client()
    booked = book_first_visit(
        demo, new_guest_patient(demo), practitioner=practitioner, location=location
    )
    intake_id = start_as_guest(client, booked.start_url)
    answer_all(client, intake_id, PAGE_ORDER[:4])
    answer(client, intake_id, "warning_signs", {**CALM_ANSWERS["warning_signs"], "rf_fever": "yes"})
    pages = [client.get(f"/intake/{intake_id}/urgent").get_data(as_text=True)]
    answer_all(client, intake_id, PAGE_ORDER[5:])
    submit(client, intake_id)
    pages.append(client.get(f"/intake/{intake_id}/sent").get_data(as_text=True))
    for html in pages:
        for words in present:
            assert words in html
        for words in absent:
            assert words not in html


# ---- Reception: review, reminders, paper consent -------------------------------------------------


def test_mark_reviewed_with_a_comment(demo: Flask, login_as: LoginAs) -> None:
    intake_id, _ = _submitted_intake(demo)
    reception = login_as("receptionist")
    url = f"/reception/intake/{intake_id}"
    empty = reception.post(url, data={"csrf_token": _csrf(reception, url), "comment": ""})
    assert empty.status_code == 200
    assert "Enter a comment about your review" in empty.get_data(as_text=True)
    done = reception.post(
        url, data={"csrf_token": _csrf(reception, url), "comment": "Spoke to patient"}
    )
    assert done.headers["Location"].endswith("/reception/intake")
    queue = reception.get("/reception/intake").get_data(as_text=True)
    assert "Intake forms to review (0)" in queue
    assert "marked as reviewed" in queue
    with demo.app_context():
        intake = db.session.get(IntakeResponse, intake_id)
        assert (intake.status, intake.review_comment) == (IntakeStatus.reviewed, "Spoke to patient")


def test_send_a_reminder_to_complete_intake(demo: Flask, login_as: LoginAs) -> None:
    booked = book_first_visit(demo, guest_patient_id(demo))
    reception = login_as("receptionist")
    queue = reception.get("/reception/intake").get_data(as_text=True)
    assert f"/reception/intake/remind/{booked.appointment_id}" in queue
    response = reception.post(
        f"/reception/intake/remind/{booked.appointment_id}", data={"csrf_token": csrf_from(queue)}
    )
    assert response.status_code == 303
    queue = reception.get("/reception/intake").get_data(as_text=True)
    assert "Reminder sent" in queue
    assert f"/reception/intake/remind/{booked.appointment_id}" not in queue
    with demo.app_context():
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "intake.reminder")
        )
        assert booked.start_url in message.body_text
    again = reception.post(
        f"/reception/intake/remind/{booked.appointment_id}", data={"csrf_token": csrf_from(queue)}
    )
    assert again.status_code == 422


def test_staff_record_paper_consent(demo: Flask, login_as: LoginAs) -> None:
    _, patient_id = _submitted_intake(demo)
    reception = login_as("receptionist")
    url = f"/reception/patients/{patient_id}/consent"
    empty = reception.post(url, data={"csrf_token": _csrf(reception, url)})
    assert "Select the treatment they agreed to" in empty.get_data(as_text=True)
    response = reception.post(
        url,
        data={"csrf_token": _csrf(reception, url), "modality": "cupping", "method": "paper"},
    )
    assert response.headers["Location"].endswith(f"/reception/patients/{patient_id}/health")
    record = reception.get(response.headers["Location"]).get_data(as_text=True)
    assert "Given on paper" in record
    assert "recorded by" in record


# ---- Flags on the day views -------------------------------------------------------------------


def _today_start(app: Flask, hour: int) -> datetime:
    with app.app_context():
        zone = clinic_zone()
        start, _ = day_bounds(local_today(zone, now=datetime.now(zone)), zone)
    return start + timedelta(hours=hour)


def test_flags_show_as_text_on_day_sheet_day_view_and_record(
    demo: Flask, login_as: LoginAs
) -> None:
    booked = book_first_visit(demo, new_guest_patient(demo), starts_at=_today_start(demo, 1))
    with demo.app_context():
        intake = answers.start_intake(
            db.session.get(Appointment, booked.appointment_id), now=datetime.now(UTC)
        )
        for page_key, values in (
            ("medicines", {"anticoagulants": "yes"}),
            ("implants", {"implants": "yes"}),
        ):
            answers.save_page(
                intake, page_key, values, complete=True, actor=None, now=datetime.now(UTC)
            )
        db.session.commit()
    for role, path, expected in (
        ("receptionist", "/reception/", "/reception/intake/"),
        ("practitioner", "/practitioner/", "/practitioner/intake/"),
    ):
        seen = len(_audit_rows(demo, "flags.read"))
        html = login_as(role).get(path).get_data(as_text=True)
        # Showing a patient's flags is a read of clinical data: one audit row per patient.
        rows = _audit_rows(demo, "flags.read")
        assert len(rows) == seen + 1
        assert (rows[-1].patient_id, rows[-1].actor_role) == (booked.patient_id, role)
        assert '<th scope="col" class="govuk-table__header">Flags</th>' in html
        assert "Bleeding risk (precaution)" in html
        assert "No electro-acupuncture (contraindication)" in html
        assert "Started, not sent" in html
        assert expected in html
    record = login_as("practitioner").get(f"/practitioner/patients/{booked.patient_id}/health")
    assert "No electro-acupuncture (contraindication)" in record.get_data(as_text=True)


# ---- Logs never hold answers -------------------------------------------------------------------


def test_logs_hold_no_answers_or_tokens(demo: Flask, login_as: LoginAs) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    demo.logger.addHandler(handler)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    canary = "Canary-ache-7Q"
    try:
        booked = book_first_visit(demo, guest_patient_id(demo))
        client = demo.test_client()
        intake_id = start_as_guest(client, booked.start_url)
        answer(client, intake_id, "concern", {"concern": canary, "body_regions": ["neck"]})
        answer_all(client, intake_id, PAGE_ORDER[1:13])
        answer(
            client,
            intake_id,
            "emergency_contact",
            {"ec_name": f"{canary} Contact", "ec_phone": "07400 900 999"},
        )
        answer_all(client, intake_id, PAGE_ORDER[14:])
        submit(client, intake_id)
        login_as("receptionist").get(f"/reception/intake/{intake_id}")
        login_as("practitioner").get(f"/practitioner/intake/{intake_id}")
    finally:
        demo.logger.removeHandler(handler)
        root.removeHandler(handler)
        root.setLevel(old_level)
    logs = stream.getvalue()
    for secret in (canary, "07400 900 999", booked.token, "lower_back", "Stiff lower back"):
        assert secret not in logs
    with demo.app_context():
        details = " ".join(e.detail or "" for e in db.session.scalars(select(AuditEvent)))
        assert canary not in details
