"""Deadlines in words that are true (issue 19): never a deadline in the past.

A Wednesday 3 March 2027 10:30am session in London (GMT) with a 24-hour cut-off: the
deadline is 10:30am on Tuesday 2 March.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.domain.change_window import Contact, change_window, window_sentences

LONDON = ZoneInfo("Europe/London")
STARTS = datetime(2027, 3, 3, 10, 30, tzinfo=UTC)
DEADLINE = STARTS - timedelta(hours=24)
MINUTE = timedelta(minutes=1)
CALL = Contact(place="Islington", phone="020 7946 0321", late_mode="call")
RECORD = Contact(place="Islington", phone="020 7946 0321", late_mode="record")
AFTER_CALL = "After that, call Islington on 020 7946 0321."


def words(now: datetime, booked_at: datetime | None, contact: Contact = CALL) -> tuple[str, ...]:
    window = change_window(starts_at=STARTS, cutoff_hours=24, now=now, booked_at=booked_at)
    return window_sentences(window, zone=LONDON, contact=contact, booking=booked_at is None)


def test_booked_one_minute_before_the_cut_off_shows_the_deadline() -> None:
    booking_now = DEADLINE - MINUTE
    assert words(booking_now, None) == (
        "You can change or cancel online until 10:30am on Tuesday 2 March 2027.",
        AFTER_CALL,
    )
    assert words(booking_now, booking_now) == words(booking_now, None)


def test_booked_one_minute_after_the_cut_off_never_shows_it() -> None:
    booked = DEADLINE + MINUTE
    assert words(booked, None) == (
        "You are booking less than 24 hours ahead. You can change or cancel online for "
        "15 minutes after you book.",
        AFTER_CALL,
    )
    # Confirmation page and email, at once: the grace with its end time.
    assert words(booked, booked) == (
        "You booked less than 24 hours ahead. You can change or cancel online until "
        "10:46am on Tuesday 2 March 2027.",
        AFTER_CALL,
    )


@pytest.mark.parametrize("minutes", [0, 7, 15])
def test_inside_the_grace_the_end_of_the_grace_is_shown(minutes: int) -> None:
    booked = DEADLINE + 5 * MINUTE
    sentences = words(booked + minutes * MINUTE, booked)
    assert sentences[0].endswith("until 10:50am on Tuesday 2 March 2027.")
    assert "10:30am" not in " ".join(sentences)


def test_after_the_grace_a_late_booking_says_to_call() -> None:
    booked = DEADLINE + MINUTE
    assert words(booked + 16 * MINUTE, booked) == (
        "You booked less than 24 hours ahead: to change or cancel, call Islington on "
        "020 7946 0321.",
    )
    assert words(booked + 16 * MINUTE, booked, RECORD) == (
        "You booked less than 24 hours ahead. A change or cancellation now is recorded as late.",
    )


def test_booked_in_time_but_now_past_the_cut_off() -> None:
    booked = DEADLINE - timedelta(days=3)
    assert words(DEADLINE + MINUTE, booked) == (
        "It is too late to change or cancel online. Call Islington on 020 7946 0321.",
    )
    assert words(DEADLINE + MINUTE, booked, RECORD) == (
        "It is less than the notice we ask for. A change or cancellation now is recorded as late.",
    )


def test_the_grace_never_outlasts_the_session() -> None:
    booked = STARTS - 5 * MINUTE  # a staff booking minutes before the start
    window = change_window(starts_at=STARTS, cutoff_hours=24, now=booked, booked_at=booked)
    assert window.until == STARTS


def test_one_hour_cut_off_reads_in_the_singular() -> None:
    window = change_window(
        starts_at=STARTS, cutoff_hours=1, now=STARTS - 30 * MINUTE, booked_at=None
    )
    assert window_sentences(window, zone=LONDON, contact=CALL, booking=True)[0].startswith(
        "You are booking less than 1 hour ahead."
    )
