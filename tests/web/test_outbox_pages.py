"""The admin's email pages (outbox list, retry, cancel; reminder settings; a location's
override) and the patient's opt-out link."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import Clinic, Location, OutboxMessage, OutboxStatus, PatientProfile
from booking.services.platform.outbox import PAGE_SIZE, enqueue
from booking.services.reminders.unsubscribe import unsubscribe_token
from tests.conftest import count_queries, csrf_from, freeze_clock
from tests.factories import make_patient
from tests.web.access.outbox import POST_DATA

NOW = datetime(2027, 4, 13, 9, 0, tzinfo=UTC)


@pytest.fixture
def admin(login_as: Callable[[str], FlaskClient], monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    freeze_clock(monkeypatch, NOW)
    return login_as("admin")


def queue(
    app: Flask, count: int, status: OutboxStatus = OutboxStatus.pending, batch: str = "a"
) -> list[int]:
    with app.app_context():
        messages = [
            enqueue(
                kind="reminder.24h",
                recipient=f"p{index}@example.com",
                subject=f"Reminder {index}",
                body_text="Body",
                dedupe_key=f"test:{batch}:{status}:{index}",
                now=NOW - timedelta(minutes=index),
            )
            for index in range(count)
        ]
        for message in messages:
            message.status = status
            message.last_error = "451 Temporary failure" if status == OutboxStatus.dead else None
        db.session.commit()
        return [message.id for message in messages]


def post(client: FlaskClient, page: str, action: str, data: dict[str, str] | None = None) -> object:
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **(data or {})})


def status_of(app: Flask, message_id: int) -> OutboxStatus:
    with app.app_context():
        return db.session.get(OutboxMessage, message_id).status


def test_the_list_shows_each_state_with_counts_and_pages(admin: FlaskClient, demo: Flask) -> None:
    queue(demo, PAGE_SIZE + 2)
    queue(demo, 1, OutboxStatus.dead)
    html = admin.get("/admin/outbox").get_data(as_text=True)
    assert "<title>Email: waiting (page 1 of 2) – " in html
    for count in ("Waiting (27)", "Failed (1)", "Sent (0)"):
        assert count in html
    assert html.count('class="govuk-summary-card"') == PAGE_SIZE
    assert "Reminder, 24 hours before to p0@example.com" in html
    assert 'rel="next"' in html
    second = admin.get("/admin/outbox?page=2").get_data(as_text=True)
    assert second.count('class="govuk-summary-card"') == 2
    failed = admin.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "451 Temporary failure" in failed
    assert ">Retry<" in failed
    assert admin.get("/admin/outbox?status=everything").status_code == 404
    assert admin.get("/admin/outbox?page=9").status_code == 404
    assert admin.get("/admin/outbox?page=x").status_code == 200  # not a number: page 1


def test_the_list_reads_a_fixed_number_of_queries(admin: FlaskClient, demo: Flask) -> None:
    queue(demo, 1)
    with count_queries(demo) as one:
        admin.get("/admin/outbox")
    queue(demo, 20, batch="b")
    with count_queries(demo) as many:
        admin.get("/admin/outbox")
    assert len(one) == len(many)


def test_retry_and_cancel(admin: FlaskClient, demo: Flask) -> None:
    (dead,) = queue(demo, 1, OutboxStatus.dead)
    response = post(
        admin, "/admin/outbox?status=failed", f"/admin/outbox/{dead}/retry", {"from": "failed"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/outbox?status=pending")
    assert status_of(demo, dead) == OutboxStatus.pending
    with demo.app_context():
        assert db.session.get(OutboxMessage, dead).attempts == 0
    response = post(admin, "/admin/outbox", f"/admin/outbox/{dead}/cancel")
    assert status_of(demo, dead) == OutboxStatus.cancelled
    assert "The message was cancelled" in admin.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_a_sent_message_cannot_be_cancelled_or_retried(admin: FlaskClient, demo: Flask) -> None:
    (sent,) = queue(demo, 1, OutboxStatus.sent)
    for action in ("cancel", "retry"):
        response = post(
            admin, "/admin/outbox?status=sent", f"/admin/outbox/{sent}/{action}", {"from": "sent"}
        )
        assert response.status_code == 303
        assert response.headers["Location"].endswith("status=sent")
        assert status_of(demo, sent) == OutboxStatus.sent
    html = admin.get("/admin/outbox?status=sent").get_data(as_text=True)
    assert "Only failed or cancelled messages can be retried" in html


def test_reminder_settings_are_saved(admin: FlaskClient, demo: Flask) -> None:
    html = admin.get("/admin/reminders").get_data(as_text=True)
    assert "can reveal a health condition" in html  # the warning beside the details setting
    data = {**POST_DATA["admin.reminders"], "reminder_2h": "yes", "reminder_details": "yes"}
    response = post(admin, "/admin/reminders", "/admin/reminders", data)
    assert response.status_code == 302
    with demo.app_context():
        clinic = db.session.scalar(select(Clinic))
        assert (clinic.reminder_24h, clinic.reminder_2h, clinic.reminder_details) == (
            True,
            True,
            True,
        )
    missing = post(admin, "/admin/reminders", "/admin/reminders", {})
    assert missing.status_code == 200
    assert "Select yes if patients get a reminder 24 hours before" in missing.get_data(as_text=True)


def test_a_location_overrides_the_2_hour_reminder(admin: FlaskClient, demo: Flask) -> None:
    from tests.web.access.setup import POST_DATA as SETUP

    data = {**SETUP["admin.location_edit"], "reminder_2h": "yes", "reminder_24h": ""}
    response = post(admin, "/admin/locations/1", "/admin/locations/1", data)
    assert response.status_code == 302
    with demo.app_context():
        location = db.session.get(Location, 1)
        assert (location.reminder_24h, location.reminder_2h) == (None, True)
    html = admin.get("/admin/locations/1").get_data(as_text=True)
    assert "Use the clinic&#39;s setting (no)" in html


def test_the_opt_out_link_stops_reminders(demo: Flask) -> None:
    with demo.app_context():
        patient = make_patient()
        db.session.commit()
        patient_id = patient.id
    client = demo.test_client()
    token = unsubscribe_token(patient_id, secret=demo.config["SECRET_KEY"])
    url = f"/unsubscribe/{patient_id}/{token}"
    page = client.get(url).get_data(as_text=True)
    assert "Stop reminders by email" in page
    response = client.post(url, data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    assert "You will not get reminders" in client.get(url).get_data(as_text=True)
    with demo.app_context():
        assert db.session.get(PatientProfile, patient_id).opted_out
    assert client.get(f"/unsubscribe/{patient_id}/{token[:-1]}x").status_code == 404
    other = re.sub(r"\d+", str(patient_id + 1000), url, count=1)
    assert client.get(other).status_code == 404
