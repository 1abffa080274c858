"""The booking journey over HTTP on both engines: booking, races, holds, bad input (issue 6)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, OutboxMessage, PatientProfile
from tests.web.booking_helpers import (
    BANNED,
    DAY,
    NOW,
    START,
    Clock,
    book,
    counts,
    demo_ids,
    error_summary,
    hold,
    post,
    text,
    to_check,
    to_time,
)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def test_a_booking_url_without_a_draft_goes_to_the_start_page(demo: Flask) -> None:
    client = demo.test_client()
    for path in ("/book/type", "/book/day", "/book/time", "/book/check", "/book/name"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == "/"


def test_full_journey_books_a_new_patient_with_a_confirmation_email(
    demo: Flask, clock: Clock
) -> None:
    ids = demo_ids(demo)
    client = demo.test_client()
    token = book(client, ids)
    with demo.app_context():
        appointment = db.session.scalar(select(Appointment))
        assert appointment.status == AppointmentStatus.booked
        assert appointment.starts_at.isoformat() == START
        assert appointment.practitioner_id == ids.mei
        assert appointment.is_first_visit
        patient = db.session.get(PatientProfile, appointment.patient_id)
        assert (patient.given_name, patient.phone) == ("Jo", "+447400123456")
        assert patient.email == "jo@example.com"
        assert str(patient.date_of_birth) == "1980-01-03"
        message = db.session.scalar(select(OutboxMessage))
        assert message.kind == "appointment.confirmation"
        assert message.recipient == "jo@example.com"
        assert "BEGIN:VCALENDAR" in message.ics
        assert f"/manage/{token}" in message.body_text
    page = text(client.get("/book/confirmation"))
    assert "Session booked" in page
    assert "Wednesday 3 March 2027" in page
    ics = client.get(f"/manage/{token}/calendar.ics")
    assert ics.status_code == 200
    assert ics.mimetype == "text/calendar"
    assert "BEGIN:VEVENT" in ics.get_data(as_text=True)


def test_the_location_step_is_skipped_when_one_place_offers_the_type(
    demo: Flask, clock: Clock
) -> None:
    client = demo.test_client()
    response = client.get("/book?type=community-acupuncture")
    assert response.headers["Location"] == "/book/practitioner"


def test_an_unknown_session_type_slug_asks_again(demo: Flask, clock: Clock) -> None:
    client = demo.test_client()
    response = client.get("/book?type=no-such-thing")
    assert response.headers["Location"] == "/book/type"
    page = client.get("/book/type")
    assert page.status_code == 200
    assert "What would you like to book?" in text(page)


def test_a_repeated_confirm_books_once(demo: Flask, clock: Clock) -> None:
    ids = demo_ids(demo)
    client = demo.test_client()
    to_check(client, ids)
    first = post(client, "/book/check")
    second = post(client, "/book/check")
    assert first.headers["Location"].endswith("/book/confirmation")
    assert second.headers["Location"].endswith("/book/confirmation")
    after = counts(demo)
    assert after["appointments"] == {"booked": 1}
    assert after["patients"] == 31  # 30 demo patients + this one
    assert after["outbox"] == 1
    assert "Session booked" in text(client.get("/book/confirmation"))


def test_the_race_loser_gets_the_just_taken_page_with_nearest_times(
    demo: Flask, clock: Clock
) -> None:
    ids = demo_ids(demo)
    winner, loser = demo.test_client(), demo.test_client()
    to_time(winner, ids)
    to_time(loser, ids)
    won = hold(winner)
    lost = hold(loser)
    assert won.status_code == 303
    assert won.headers["Location"].endswith("/book/returning")
    assert lost.status_code == 303
    assert lost.headers["Location"].endswith("/book/taken")
    page = loser.get("/book/taken")
    assert page.status_code == 200
    assert "10am has just been booked" in text(page)
    assert page.get_data(as_text=True).count('name="start" type="radio"') >= 1
    assert counts(demo)["appointments"] == {"held": 1}
    # Choosing a nearest time holds it and goes on (answers kept).
    nearest = page.get_data(as_text=True).split('name="start" type="radio" value="')[1]
    chosen = nearest.split('"')[0]
    response = post(loser, "/book/taken", {"start": chosen})
    assert response.headers["Location"].endswith("/book/returning")
    assert counts(demo)["appointments"] == {"held": 2}


def test_a_time_booked_through_the_pages_is_not_offered_after_the_hold_time(
    demo: Flask, clock: Clock
) -> None:
    # Issue 13.1: every booked session was offered again once its hold would have expired.
    ids = demo_ids(demo)
    book(demo.test_client(), ids)
    clock.advance(minutes=11)
    later = demo.test_client()
    to_time(later, ids)
    page = later.get(f"/book/time?day={DAY}")
    assert page.status_code == 200
    assert f'value="{START}"' not in page.get_data(as_text=True)
    assert "9am to 9:40am" in text(page)  # other times that day are still offered
    assert hold(later).headers["Location"].endswith("/book/taken")
    assert counts(demo)["appointments"] == {"booked": 1}


def test_an_expired_hold_is_taken_again_when_still_free(demo: Flask, clock: Clock) -> None:
    ids = demo_ids(demo)
    client = demo.test_client()
    to_check(client, ids)
    clock.advance(minutes=11)
    assert "no longer holding" in text(client.get("/book/check"))
    response = post(client, "/book/check")
    assert response.headers["Location"].endswith("/book/confirmation")
    assert counts(demo)["appointments"] == {"booked": 1}


def test_an_expired_hold_taken_by_someone_else_books_nothing(demo: Flask, clock: Clock) -> None:
    ids = demo_ids(demo)
    slow, fast = demo.test_client(), demo.test_client()
    to_check(slow, ids)
    clock.advance(minutes=11)
    to_time(fast, ids)
    assert hold(fast).headers["Location"].endswith("/book/returning")
    before = counts(demo)
    response = post(slow, "/book/check")
    assert response.headers["Location"].endswith("/book/expired")
    page = slow.get("/book/expired")
    assert page.status_code == 200
    assert "We are no longer holding 10am" in text(page)
    after = counts(demo)
    assert after["appointments"] == {"held": 1}
    assert after["patients"] == before["patients"]
    assert after["outbox"] == before["outbox"] == 0
    # A later question's POST with the hold gone also lands on the expired page.
    assert (
        post(slow, "/book/safety", {"safety": "no"}).headers["Location"].endswith("/book/expired")
    )


def test_hold_it_for_10_more_minutes_is_capped_at_30(demo: Flask, clock: Clock) -> None:
    ids = demo_ids(demo)
    client = demo.test_client()
    to_time(client, ids)
    hold(client)

    def expires() -> object:
        with demo.app_context():
            return db.session.scalar(select(Appointment.hold_expires_at))

    assert expires() == NOW + timedelta(minutes=10)
    for _ in range(3):
        clock.advance(minutes=8)
        response = post(client, "/book/hold", {"next": "/book/returning"})
        assert response.headers["Location"] == "/book/returning"
    assert expires() == NOW + timedelta(minutes=30)
    assert "We are holding 10am on Wednesday 3 March for you until 8:30am" in text(
        client.get("/book/returning")
    )
    # Past the cap the hold runs out; the next POST takes the time again (nothing is lost).
    clock.advance(minutes=8)
    assert post(client, "/book/hold", {"next": "/book/returning"}).status_code == 303
    assert expires() == NOW + timedelta(minutes=42)
    assert counts(demo)["appointments"] == {"held": 1}


BAD_INPUT = [
    # (path, form data, expected message) — each re-renders with an error, never 500.
    ("/book/name", {"given_name": "a" * 10_000, "family_name": "B"}, "First name must be 100"),
    ("/book/name", {"given_name": "", "family_name": ""}, "Enter your first name"),
    ("/book/date-of-birth", {"dob_day": "31", "dob_month": "2", "dob_year": "1990"}, "real date"),
    ("/book/date-of-birth", {"dob_day": "1", "dob_month": "", "dob_year": "1990"}, "a month"),
    ("/book/date-of-birth", {"dob_day": "1", "dob_month": "1", "dob_year": "2090"}, "the past"),
    ("/book/date-of-birth", {"dob_day": "x" * 10_000, "dob_month": "1", "dob_year": "1"}, "real"),
    ("/book/contact", {"email": "not-an-email", "phone": "07400 123 456"}, "correct format"),
    ("/book/contact", {"email": "a@example.com", "phone": "123"}, "Enter a phone number"),
    ("/book/contact", {"email": "a" * 10_000, "phone": "1" * 10_000}, "254 characters"),
    ("/book/contact-preference", {"contact_preference": "pigeon"}, "Select how we should"),
    ("/book/safety", {}, "Select yes if any of these apply"),
]


@pytest.mark.parametrize(("path", "data", "message"), BAD_INPUT)
def test_bad_details_get_a_clear_message_and_change_nothing(
    demo: Flask, clock: Clock, path: str, data: dict[str, str], message: str
) -> None:
    ids = demo_ids(demo)
    client = demo.test_client()
    to_time(client, ids)
    hold(client)
    post(client, "/book/returning", {"returning": "no"})
    for earlier, answers in (
        ("/book/name", {"given_name": "Jo", "family_name": "Bloggs"}),
        ("/book/date-of-birth", {"dob_day": "3", "dob_month": "1", "dob_year": "1980"}),
        ("/book/contact", {"email": "jo@example.com", "phone": "07400123456"}),
        ("/book/contact-preference", {"contact_preference": "email"}),
    ):
        if earlier == path:
            break
        post(client, earlier, answers)
    before = counts(demo)
    response = post(client, path, data)
    assert response.status_code == 200
    summary = error_summary(response)
    assert message in summary
    assert not any(word in summary.lower() for word in BANNED)
    assert response.get_data(as_text=True).count("<title>Error: ") == 1
    assert counts(demo) == before


def test_forged_choices_are_refused(demo: Flask, clock: Clock) -> None:
    ids = demo_ids(demo)
    client = demo.test_client()
    client.get("/book")
    before = counts(demo)
    response = post(client, "/book/type", {"session_type": "999999"})
    assert "Select what you would like to book" in error_summary(response)
    to_time(client, ids)
    # A day in the past, beyond the horizon, or not a date at all.
    for day in ("2020-01-01", "2031-01-01", "not-a-day", "x" * 10_000):
        response = post(client, "/book/day", {"day": day})
        assert response.status_code == 200
        assert "Select a day" in error_summary(response)
    for day in ("2020-01-01", "2031-01-01"):
        assert client.get(f"/book/time?day={day}").headers["Location"] == "/book/day"
    # Outside hours (3am), off the grid, malformed, over-long, another day.
    for start in (
        "2027-03-03T03:00:00+00:00",
        "2027-03-03T10:07:00+00:00",
        "garbage",
        "9" * 10_000,
        "2027-03-04T10:00:00+00:00",
        "2027-03-03T10:00:00",
    ):
        response = hold(client, start)
        assert response.status_code in (200, 422), start
        assert "Select a time" in error_summary(response) or "no longer available" in (
            error_summary(response)
        )
    assert counts(demo) == before


def test_the_day_page_lists_two_weeks_of_free_days(demo: Flask, clock: Clock) -> None:
    ids = demo_ids(demo)
    client = demo.test_client()
    to_time(client, ids)
    page = client.get("/book/day")
    body = text(page)
    assert "Week starting Monday 1 March 2027" in body
    assert "Week starting Monday 8 March 2027" in body
    assert "No free times on Saturday and Sunday." in body
    html = page.get_data(as_text=True)
    assert html.index("Continue") < html.index("Later weeks")
    assert "Earlier weeks" not in html  # nothing before today
    later = client.get("/book/day?week=2027-03-15")
    assert "Week starting Monday 15 March 2027" in text(later)
    assert "Earlier weeks" in later.get_data(as_text=True)


def test_the_time_page_groups_times_and_names_the_zone(demo: Flask, clock: Clock) -> None:
    ids = demo_ids(demo)
    client = demo.test_client()
    to_time(client, ids)
    body = text(client.get(f"/book/time?day={DAY}"))
    assert "Choose a time on Wednesday 3 March" in body
    assert "Times are in London time (GMT)" in body
    assert "Morning" in body
    assert "Afternoon" in body
    assert "10am to 10:40am" in body


def test_a_safety_yes_shows_the_urgent_care_card(demo: Flask, clock: Clock) -> None:
    ids = demo_ids(demo)
    client = demo.test_client()
    to_time(client, ids)
    hold(client)
    from tests.web.booking_helpers import NEW_PATIENT

    for path, data in NEW_PATIENT[:-1]:
        post(client, path, data)
    response = post(client, "/book/safety", {"safety": "yes"})
    assert response.headers["Location"] == "/book/urgent"
    body = text(client.get("/book/urgent"))
    assert "999" in body
    assert "NHS 111" in body
    assert "Continue booking" in body


def test_change_links_return_to_check_answers(demo: Flask, clock: Clock) -> None:
    ids = demo_ids(demo)
    client = demo.test_client()
    to_check(client, ids)
    assert "/book/name?change=check" in client.get("/book/check").get_data(as_text=True)
    response = post(client, "/book/name?change=check", {"given_name": "Jan", "family_name": "B"})
    assert response.headers["Location"] == "/book/check"
    assert "Jan B" in text(client.get("/book/check"))


def test_a_returning_patient_finds_their_details_by_email_link(demo: Flask, clock: Clock) -> None:
    ids = demo_ids(demo)
    client = demo.test_client()
    to_time(client, ids)
    hold(client)
    assert post(client, "/book/returning", {"returning": "yes"}).headers["Location"] == (
        "/book/find-you"
    )
    known = post(client, "/book/find-you", {"email": "Priya.Shah@meridian.example"})
    unknown = post(client, "/book/find-you", {"email": "nobody@meridian.example"})
    assert known.headers["Location"] == unknown.headers["Location"] == "/book/find-you/sent"
    with demo.app_context():
        message = db.session.scalar(
            select(OutboxMessage).where(
                func.lower(OutboxMessage.recipient) == "priya.shah@meridian.example"
            )
        )
        # Emailed links are on BASE_URL, never the request's host (issue 13).
        link = message.body_text.split(demo.config["BASE_URL"])[1].split()[0]
    assert client.get(link).status_code == 200  # GET does not spend it
    response = post(client, link)
    assert response.headers["Location"] == "/book/safety"  # no earlier visit: first visit
    assert post(client, "/book/safety", {"safety": "no"}).headers["Location"] == "/book/check"
    body = text(client.get("/book/check"))
    assert "Priya Shah" in body
    assert post(client, link).status_code == 404  # single use
    assert post(client, "/book/check").headers["Location"].endswith("/book/confirmation")
    with demo.app_context():
        appointment = db.session.scalar(select(Appointment))
        assert appointment.patient.email == "priya.shah@meridian.example"
    assert counts(demo)["patients"] == 30


def test_time_labels_name_the_abbreviation_on_a_clocks_back_day() -> None:
    from datetime import UTC, date, datetime

    from booking.book.slot_pages import time_groups, zone_line
    from booking.domain.scheduling.values import Slot

    def slot(hour: int, minute: int) -> Slot:
        start = datetime(2027, 10, 31, hour, minute, tzinfo=UTC)
        end = start + timedelta(minutes=40)
        return Slot(start, end, start, end, 1, None, None)

    # 00:30 and 01:30 UTC are 1:30am BST and 1:30am GMT in London.
    groups = time_groups([slot(0, 30), slot(1, 30)], "Europe/London", date(2027, 10, 31))
    labels = [label for group in groups for _, label in group.items]
    assert labels == ["1:30am BST to 1:10am GMT", "1:30am GMT to 2:10am GMT"]
    ordinary = time_groups([slot(10, 0)], "Europe/London", date(2027, 10, 30))
    assert ordinary == []  # a slot on another day is not listed
    assert zone_line("Europe/Dublin", date(2027, 7, 1)) == "Times are in Dublin time (IST)"
    assert zone_line("Europe/London", date(2027, 1, 4)) == "Times are in London time (GMT)"
