"""Deadlines in words that are true, and the price, on the booking pages (issue 19).

The session is Wednesday 3 March 2027 at 10am (GMT) at Islington with the 24-hour cut-off, so
its deadline is 10am on Tuesday 2 March. Booked one minute after that, no page or email may
name 10am on 2 March: they give the 15-minute grace and its end, then the phone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import OutboxMessage
from tests.web.booking_helpers import Clock, book, confirm, demo_ids, text, to_check

LATE = datetime(2027, 3, 2, 10, 1, tzinfo=UTC)  # the cut-off + 1 minute
PAST_DEADLINE = "10am on Tuesday 2 March 2027"
GRACE_END = "You can change or cancel online until 10:16am on Tuesday 2 March 2027."
CALL = "call Islington on 020 7946 0321"


def test_booked_inside_the_cut_off_no_page_names_a_past_deadline(
    demo: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch, LATE)
    client = demo.test_client()
    ids = demo_ids(demo)
    to_check(client, ids)
    check = text(client.get("/book/check"))
    assert (
        "You are booking less than 24 hours ahead. You can change or cancel online for "
        "15 minutes after you book." in check
    )
    assert f"After that, {CALL}." in check
    assert "Price £70" in check  # the first session's price
    assert "Mobile phone number 07400 123456" in check  # stored +447400123456
    assert PAST_DEADLINE not in check

    token = confirm(client)
    confirmation = text(client.get("/book/confirmation"))
    assert f"You booked less than 24 hours ahead. {GRACE_END}" in confirmation
    assert "Price £70, paid at the clinic" in confirmation
    assert PAST_DEADLINE not in confirmation
    with demo.app_context():
        email = db.session.scalar(select(OutboxMessage.body_text))
    assert GRACE_END in email
    assert PAST_DEADLINE not in email

    clock.advance(minutes=10)  # inside the grace
    manage = text(client.get(f"/manage/{token}"))
    assert GRACE_END in manage
    assert "Cancel this session" in manage

    clock.advance(minutes=6)  # the grace is over
    manage = text(client.get(f"/manage/{token}"))
    assert f"You booked less than 24 hours ahead: to change or cancel, {CALL}." in manage
    assert "Cancel this session" not in manage
    assert PAST_DEADLINE not in manage


def test_booked_a_minute_before_the_cut_off_shows_the_deadline(
    demo: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    Clock(monkeypatch, datetime(2027, 3, 2, 9, 59, tzinfo=UTC))
    client = demo.test_client()
    token = book(client, demo_ids(demo))
    assert f"You can change or cancel online until {PAST_DEADLINE}." in text(
        client.get("/book/confirmation")
    )
    assert f"You can change or cancel online until {PAST_DEADLINE}." in text(
        client.get(f"/manage/{token}")
    )


def test_a_first_visit_says_where_the_health_questions_are(
    demo: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 19: the manage page and the emails of a first visit link to the health questions,
    # and the guest's link works without an account.
    Clock(monkeypatch)
    client = demo.test_client()
    token = book(client, demo_ids(demo))
    with demo.app_context():
        email = db.session.scalar(select(OutboxMessage.body_text))
    assert "Health questions: not answered yet." in email
    link = re.search(r"https?://\S+?(/intake/start/\d+/\S+)", email)
    assert link, email
    manage = client.get(f"/manage/{token}").get_data(as_text=True)
    assert "You have not answered the health questions yet." in manage
    assert f'href="{link.group(1)}">Answer the health questions</a>' in manage
    stranger = demo.test_client()  # another browser, no account, no cookies
    assert stranger.get(link.group(1)).status_code in (200, 302, 303)
