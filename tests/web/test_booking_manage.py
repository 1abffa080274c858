"""Change and cancel from the manage link and the patient account (issue 6, ux.md §5)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, Clinic, LateCancelMode, OutboxMessage
from tests.web.booking_helpers import (
    DAY,
    Clock,
    book,
    counts,
    demo_ids,
    hold,
    post,
    text,
    to_time,
)

NEW_START = "2027-03-03T14:00:00+00:00"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def appointment_row(app: Flask) -> Appointment:
    with app.app_context():
        row = db.session.scalar(select(Appointment).order_by(Appointment.id))
        db.session.expunge(row)
        return row


def set_mode(app: Flask, mode: LateCancelMode) -> None:
    with app.app_context():
        db.session.execute(update(Clinic).values(late_cancel_mode=mode))
        db.session.commit()


def test_your_session_page_states_the_deadline(demo: Flask, clock: Clock) -> None:
    client = demo.test_client()
    token = book(client, demo_ids(demo))
    body = text(client.get(f"/manage/{token}"))
    assert "Your session" in body
    assert "You can change or cancel online until 10am on Tuesday 2 March 2027" in body
    assert "Change the time" in body
    assert "Cancel this session" in body


def test_cancel_outside_the_cut_off(demo: Flask, clock: Clock) -> None:
    client = demo.test_client()
    token = book(client, demo_ids(demo))
    page = client.get(f"/manage/{token}/cancel")
    assert "Are you sure you want to cancel this session?" in text(page)
    assert "Keep my session" in text(page)
    response = post(client, f"/manage/{token}/cancel")
    assert response.headers["Location"] == f"/manage/{token}/done"
    assert "Session cancelled" in text(client.get(response.headers["Location"]))
    row = appointment_row(demo)
    assert row.status == AppointmentStatus.cancelled
    assert not row.late_cancel
    with demo.app_context():
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "appointment.cancellation")
        )
        assert "METHOD:CANCEL" in message.ics


def test_cancel_inside_the_cut_off_in_call_mode_changes_nothing(demo: Flask, clock: Clock) -> None:
    client = demo.test_client()
    token = book(client, demo_ids(demo))
    clock.advance(hours=27)  # Tuesday 11am: 23 hours before the session
    page = client.get(f"/manage/{token}/cancel")
    body = text(page)
    assert "It is too late to cancel online. Call Islington on 020 7946 0321" in body
    assert "Cancel session" not in body
    assert "Change the time" not in text(client.get(f"/manage/{token}"))
    before = counts(demo)
    response = post(client, f"/manage/{token}/cancel")
    assert response.status_code == 422
    assert appointment_row(demo).status == AppointmentStatus.booked
    assert counts(demo) == before
    # The change pages send the patient back to "Your session", which says to call.
    assert client.get(f"/manage/{token}/day").headers["Location"] == f"/manage/{token}"


def test_cancel_inside_the_cut_off_in_record_mode_is_recorded_as_late(
    demo: Flask, clock: Clock
) -> None:
    set_mode(demo, LateCancelMode.record)
    client = demo.test_client()
    token = book(client, demo_ids(demo))
    clock.advance(hours=27)
    assert "recorded as a late cancellation" in text(client.get(f"/manage/{token}/cancel"))
    response = post(client, f"/manage/{token}/cancel")
    assert response.headers["Location"] == f"/manage/{token}/done"
    row = appointment_row(demo)
    assert row.status == AppointmentStatus.cancelled
    assert row.late_cancel


def test_cancel_outside_the_cut_off_in_record_mode_is_not_late(demo: Flask, clock: Clock) -> None:
    set_mode(demo, LateCancelMode.record)
    client = demo.test_client()
    token = book(client, demo_ids(demo))
    post(client, f"/manage/{token}/cancel")
    row = appointment_row(demo)
    assert row.status == AppointmentStatus.cancelled
    assert not row.late_cancel


def change_to(client: FlaskClient, token: str, start: str = NEW_START) -> object:
    assert post(client, f"/manage/{token}/day", {"day": DAY}).headers["Location"] == (
        f"/manage/{token}/time?day={DAY}"
    )
    response = post(client, f"/manage/{token}/time?day={DAY}", {"start": start})
    check = response.headers["Location"]
    assert "Check your new time" in text(client.get(check))
    return post(client, check, {"start": start})


def test_reschedule_keeps_the_ics_uid_and_raises_the_sequence(demo: Flask, clock: Clock) -> None:
    client = demo.test_client()
    token = book(client, demo_ids(demo))
    before = appointment_row(demo)
    response = change_to(client, token)
    assert response.headers["Location"] == f"/manage/{token}/done"
    assert "Session changed" in text(client.get(f"/manage/{token}/done"))
    after = appointment_row(demo)
    assert after.id == before.id
    assert after.starts_at.isoformat() == NEW_START
    assert after.ics_uid == before.ics_uid
    assert after.ics_sequence == before.ics_sequence + 1
    with demo.app_context():
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "appointment.change")
        )
        assert before.ics_uid in message.ics
        assert f"SEQUENCE:{after.ics_sequence}" in message.ics
    ics = client.get(f"/manage/{token}/calendar.ics").get_data(as_text=True)
    assert f"SEQUENCE:{after.ics_sequence}" in ics


def test_a_new_time_taken_meanwhile_keeps_the_old_one(demo: Flask, clock: Clock) -> None:
    ids = demo_ids(demo)
    client = demo.test_client()
    token = book(client, ids)
    post(client, f"/manage/{token}/day", {"day": DAY})
    check = post(client, f"/manage/{token}/time?day={DAY}", {"start": NEW_START})
    other = demo.test_client()  # someone else holds the new time before "Change session"
    to_time(other, ids)
    assert hold(other, NEW_START).status_code == 303
    response = post(client, check.headers["Location"], {"start": NEW_START})
    assert response.headers["Location"].startswith(f"/manage/{token}/time")
    page = client.get(response.headers["Location"])
    assert page.status_code == 409
    assert "That time has just been taken. Select another time" in text(page)
    assert appointment_row(demo).starts_at.isoformat() == "2027-03-03T10:00:00+00:00"


BAD_TOKENS = ["not-a-token", "x" * 10_000, "%00%0d%0a", "a" * 43]


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_a_tampered_manage_link_is_refused(demo: Flask, clock: Clock, token: str) -> None:
    client = demo.test_client()
    good = book(client, demo_ids(demo))
    before = counts(demo)
    for path in ("", "/day", "/cancel", "/check", "/done", "/calendar.ics"):
        response = client.get(f"/manage/{token}{path}")
        assert response.status_code == 404
    page = client.get(f"/manage/{token}")
    assert "This link has expired or is not valid" in text(page)
    assert post(client, f"/manage/{token}/cancel").status_code == 404
    tampered = good[:-1] + ("y" if good.endswith("x") else "x")
    assert post(client, f"/manage/{tampered}/cancel").status_code == 404
    assert counts(demo) == before
    assert appointment_row(demo).status == AppointmentStatus.booked


def test_a_manage_link_expires_when_the_session_ends(demo: Flask, clock: Clock) -> None:
    client = demo.test_client()
    token = book(client, demo_ids(demo))
    clock.advance(hours=50, minutes=40)  # Wednesday 10:40am: the session has ended
    response = client.get(f"/manage/{token}")
    assert response.status_code == 404
    assert post(client, f"/manage/{token}/cancel").status_code == 404
    assert appointment_row(demo).status == AppointmentStatus.booked


def test_a_new_link_is_sent_for_upcoming_sessions_only_to_known_addresses(
    demo: Flask, clock: Clock
) -> None:
    client = demo.test_client()
    old = book(client, demo_ids(demo))
    before = counts(demo)["outbox"]
    unknown = post(client, "/manage-link", {"email": "nobody@example.com"})
    known = post(client, "/manage-link", {"email": "jo@example.com"})
    assert unknown.headers["Location"] == known.headers["Location"] == "/manage-link/sent"
    assert counts(demo)["outbox"] == before + 1
    # Issue 13: the old link works until the new one is first used, then stops.
    assert client.get(f"/manage/{old}").status_code == 200
    with demo.app_context():
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "appointment.manage_link")
        )
        new = message.body_text.split("/manage/")[1].split()[0]
    assert client.get(f"/manage/{new}").status_code == 200
    assert client.get(f"/manage/{old}").status_code == 404
    bad = post(client, "/manage-link", {"email": "not an email"})
    assert bad.status_code == 200
    assert "correct format" in text(bad)


def test_a_signed_in_patient_books_and_cancels_from_their_account(
    demo: Flask, clock: Clock, login_as: Callable[[str], FlaskClient]
) -> None:
    ids = demo_ids(demo)
    client = login_as("patient")
    to_time(client, ids)
    response = hold(client)
    # Signed in: no "booked before?" and no details; a first visit still asks about safety.
    assert response.headers["Location"] == "/book/safety"
    post(client, "/book/safety", {"safety": "no"})
    assert post(client, "/book/check").headers["Location"].endswith("/book/confirmation")
    row = appointment_row(demo)
    home = client.get("/patient/")
    assert f"/patient/sessions/{row.id}" in home.get_data(as_text=True)
    assert "Your session" in text(client.get(f"/patient/sessions/{row.id}"))
    response = post(client, f"/patient/sessions/{row.id}/cancel")
    assert response.headers["Location"] == f"/patient/sessions/{row.id}/done"
    assert appointment_row(demo).status == AppointmentStatus.cancelled


def test_someone_elses_appointment_is_404_and_unchanged(
    demo: Flask, clock: Clock, login_as: Callable[[str], FlaskClient]
) -> None:
    guest = demo.test_client()
    book(guest, demo_ids(demo))
    row = appointment_row(demo)
    client = login_as("patient")
    before = counts(demo)
    for path in ("", "/day", "/cancel", "/done", "/calendar.ics"):
        assert client.get(f"/patient/sessions/{row.id}{path}").status_code == 404
    assert post(client, f"/patient/sessions/{row.id}/cancel").status_code == 404
    assert post(client, f"/patient/sessions/{row.id}/check", {"start": NEW_START}).status_code == (
        404
    )
    assert counts(demo) == before
    after = appointment_row(demo)
    assert (after.status, after.starts_at) == (AppointmentStatus.booked, row.starts_at)
