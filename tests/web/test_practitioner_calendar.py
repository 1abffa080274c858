"""The practitioner's day and week, session actions and calendar feed (issue 15)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Location,
    OutboxMessage,
    PatientProfile,
    Practitioner,
    SessionType,
)
from tests.conftest import count_queries
from tests.factories import make_appointment, make_patient
from tests.web.booking_helpers import Clock, error_summary, post, text

# Wednesday 3 March 2027: Mei Lin Chen works 9am to 1pm and 2pm to 6pm at Islington (GMT).
WEDNESDAY = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)
DAY = "2027-03-03"


@dataclass(frozen=True)
class Setup:
    mine: int  # Mei's session on Wednesday at 10am (Jane Smith, first visit)
    theirs: int  # Tom's session the same day
    clock: Clock


def _book(practitioner: str, start: datetime, **patient: str) -> int:
    mei = db.session.scalar(select(Practitioner).where(Practitioner.display_name == practitioner))
    follow_up = db.session.scalar(
        select(SessionType).where(SessionType.slug == "follow-up-acupuncture")
    )
    islington = db.session.scalar(select(Location).where(Location.slug == "islington"))
    return make_appointment(
        starts_at=start,
        practitioner=mei,
        location=islington,
        session_type=follow_up,
        patient=make_patient(**patient),
        is_first_visit=True,
    ).id


@pytest.fixture
def setup(demo: Flask, monkeypatch: pytest.MonkeyPatch) -> Setup:
    with demo.app_context():
        mine = _book("Mei Lin Chen", WEDNESDAY, given_name="Jane", family_name="Smith")
        theirs = _book("Tom Okafor", WEDNESDAY, given_name="Ola", family_name="Other")
        db.session.commit()
    return Setup(mine, theirs, Clock(monkeypatch))


@pytest.fixture
def mei(login_as: Callable[[str], FlaskClient], setup: Setup) -> FlaskClient:
    return login_as("practitioner")


def _status(app: Flask, appointment_id: int) -> AppointmentStatus:
    with app.app_context():
        return db.session.get(Appointment, appointment_id).status


def test_the_week_is_a_table_with_headers_and_the_session_details(
    mei: FlaskClient, setup: Setup
) -> None:
    response = mei.get(f"/practitioner/week?start={DAY}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Your week: 1 to 7 March 2027</h1>' in html
    assert html.count('<th scope="col"') == 8  # Time + 7 days
    assert '<th scope="row" class="govuk-table__header">10am</th>' in html
    page = text(response)
    assert "10am to 10:30am: Jane Smith" in page
    assert "Follow-up acupuncture, first visit" in page
    assert "Booked." in page
    assert "Health questions: Not started." in page
    assert "Ola Other" not in page  # Tom's patient
    assert "Working: Islington 9am to 1pm, 2pm to 6pm" in page
    assert "Not working" in page  # Saturday and Sunday
    assert "?start=2027-02-22" in html
    assert "?start=2027-03-08" in html


def test_the_week_escapes_what_people_typed(demo: Flask, mei: FlaskClient, setup: Setup) -> None:
    """The grid is written out with autoescaping off, its texts escaped in Python
    (booking/practitioner/week_grid.py, issue 22): markup typed into a name stays text."""
    with demo.app_context():
        _book(
            "Mei Lin Chen",
            WEDNESDAY + timedelta(hours=1),
            given_name='<b>Zo\u00eb</b> "&',
            family_name="O'Brien <i>",
        )
        db.session.commit()
    html = mei.get(f"/practitioner/week?start={DAY}").get_data(as_text=True)
    assert (
        "11am to 11:30am: &lt;b&gt;Zo\u00eb&lt;/b&gt; &#34;&amp; O&#39;Brien &lt;i&gt;</a>" in html
    )
    assert "<b>" not in html
    assert "<i>" not in html


def test_the_week_view_runs_the_same_queries_for_2_or_12_sessions(
    demo: Flask, mei: FlaskClient, setup: Setup
) -> None:
    mei.get(f"/practitioner/week?start={DAY}")  # warm the caches
    with count_queries(demo) as few:
        assert mei.get(f"/practitioner/week?start={DAY}").status_code == 200
    with demo.app_context():
        for day in range(5):
            for hour in (9, 11):
                _book("Mei Lin Chen", datetime(2027, 3, 1 + day, hour, 0, tzinfo=UTC))
        db.session.commit()
    with count_queries(demo) as many:
        response = mei.get(f"/practitioner/week?start={DAY}")
    assert response.get_data(as_text=True).count("meridian-cal-session") == 11
    assert len(many) == len(few), "\n".join(many)
    # Session row (read once), user, practitioner, clinic (once), the sessions with patient,
    # type, room and place joined in and each one's plan, intake and flag (correlated
    # look-ups), hours, exceptions, place names. No plan, flag or intake here: no more.
    assert len(many) == 8, "\n\n".join(many)


def test_the_day_lists_sessions_with_actions_and_prints(mei: FlaskClient, setup: Setup) -> None:
    page = text(mei.get(f"/practitioner/day?date={DAY}"))
    assert "Your day: Wednesday 3 March 2027" in page
    assert "Jane Smith" in page
    assert "First visit" in page
    assert "Change time : 10am to 10:30am, Wednesday 3 March 2027: Jane Smith" in page
    assert "No-show" not in page  # not started yet
    printed = mei.get(f"/practitioner/day/print?date={DAY}")
    assert printed.status_code == 200
    assert "Jane Smith" in text(printed)
    assert "Change time" not in text(printed)


def test_a_malformed_date_shows_an_error_not_a_500(mei: FlaskClient, setup: Setup) -> None:
    for path in ("/practitioner/day?date=2027-02-30", "/practitioner/week?start=soon"):
        response = mei.get(path)
        assert response.status_code == 200
        assert "Date must be a real date" in error_summary(response)
        assert "<title>Error: " in response.get_data(as_text=True)
    # Dates at the ends of the calendar would overflow the day arithmetic.
    for path in ("/practitioner/day?date=9999-12-31", "/practitioner/week?start=0001-01-01"):
        response = mei.get(path)
        assert response.status_code == 200
        assert "Date must be within 10 years of today" in error_summary(response)
    far = f"/practitioner/sessions/{setup.mine}/change-time?date=9999-12-31"
    assert "Wednesday 3 March 2027" in text(mei.get(far))


def test_another_practitioners_session_is_not_found(
    demo: Flask, login_as: Callable[[str], FlaskClient], setup: Setup
) -> None:
    setup.clock.now = WEDNESDAY + timedelta(minutes=10)  # before signing in: sessions time out
    mei = login_as("practitioner")
    base = f"/practitioner/sessions/{setup.theirs}"
    assert mei.get(f"{base}/change-time").status_code == 404
    assert mei.get(f"{base}/cancel").status_code == 404
    for action in ("completed", "no-show", "undo"):
        assert post(mei, f"{base}/{action}").status_code == 404
    assert post(mei, f"{base}/cancel", {"reason": "x"}).status_code == 404
    assert _status(demo, setup.theirs) == AppointmentStatus.booked


def test_no_show_only_after_the_start_then_undo_and_completed(
    demo: Flask, mei: FlaskClient, setup: Setup, login_as: Callable[[str], FlaskClient]
) -> None:
    base = f"/practitioner/sessions/{setup.mine}"
    early = post(mei, f"{base}/no-show")
    assert early.status_code == 422
    assert "only be marked as a no-show once it has started" in error_summary(early)
    setup.clock.now = WEDNESDAY + timedelta(minutes=15)
    mei = login_as("practitioner")  # the first sign-in timed out over two days
    done = post(mei, f"{base}/no-show")
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"#session-{setup.mine}")
    assert _status(demo, setup.mine) == AppointmentStatus.no_show
    assert "marked as a no-show" in text(mei.get(done.headers["Location"]))
    assert post(mei, f"{base}/undo").status_code == 302
    assert post(mei, f"{base}/completed").status_code == 302
    assert _status(demo, setup.mine) == AppointmentStatus.completed
    with demo.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == setup.mine)
        ).all()
    assert {"appointment.no_show", "appointment.undo_outcome", "appointment.complete"} <= set(
        actions
    )


def test_change_time_lists_free_times_and_moves_the_session(
    demo: Flask, mei: FlaskClient, setup: Setup
) -> None:
    base = f"/practitioner/sessions/{setup.mine}/change-time"
    page = mei.get(f"{base}?date={DAY}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="2027-03-03T14:00:00+00:00"' in html
    assert 'value="2027-03-03T10:00:00+00:00"' not in html  # its own time
    empty = post(mei, base + f"?date={DAY}")
    assert "Select a new time" in error_summary(empty)
    moved = post(mei, f"{base}?date={DAY}", {"start": "2027-03-03T14:00:00+00:00"})
    assert moved.status_code == 302
    with demo.app_context():
        appointment = db.session.get(Appointment, setup.mine)
        assert appointment.starts_at == datetime(2027, 3, 3, 14, 0, tzinfo=UTC)
        assert appointment.ics_sequence == 1
        kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert kinds == ["appointment.change"]


def test_change_time_refuses_a_taken_time(demo: Flask, mei: FlaskClient, setup: Setup) -> None:
    base = f"/practitioner/sessions/{setup.mine}/change-time?date={DAY}"
    page = mei.get(base).get_data(as_text=True)
    assert 'value="2027-03-03T14:00:00+00:00"' in page
    with demo.app_context():
        _book("Mei Lin Chen", datetime(2027, 3, 3, 14, 0, tzinfo=UTC))
        db.session.commit()
    refused = post(mei, base, {"start": "2027-03-03T14:00:00+00:00"})
    assert refused.status_code == 200  # no longer a choice: the form says so
    assert "Select a new time" in error_summary(refused)


def test_cancel_needs_a_reason_and_emails_the_patient(
    demo: Flask, mei: FlaskClient, setup: Setup
) -> None:
    base = f"/practitioner/sessions/{setup.mine}/cancel"
    assert mei.get(base).status_code == 200
    blank = post(mei, base, {"reason": "  "})
    assert blank.status_code == 200
    assert "Enter why the session is cancelled" in error_summary(blank)
    done = post(mei, base, {"reason": "Practitioner unwell"})
    assert done.status_code == 302
    with demo.app_context():
        appointment = db.session.get(Appointment, setup.mine)
        assert (appointment.status, appointment.cancel_reason) == (
            AppointmentStatus.cancelled,
            "Practitioner unwell",
        )
        message = db.session.scalar(select(OutboxMessage))
        assert message.kind == "appointment.cancellation"
        assert "unwell" not in message.body_text


def _feed_url(response: object) -> str:
    match = re.search(r"http://[^<\s]+/calendar-feed/[^<\s]+\.ics", text(response))
    assert match, text(response)[:2000]
    return match.group(0).split("localhost", 1)[-1].split("127.0.0.1:5000", 1)[-1]


def test_the_calendar_feed_has_initials_only_and_stops_when_rotated_or_revoked(
    demo: Flask, mei: FlaskClient, setup: Setup
) -> None:
    with demo.app_context():
        patient = db.session.scalar(
            select(PatientProfile).where(PatientProfile.given_name == "Jane")
        )
        from tests.factories import make_intake

        intake = make_intake(appointment=db.session.get(Appointment, setup.mine))
        intake.answers = {"concern": "SECRET-CONCERN lower back"}
        db.session.commit()
        assert patient is not None
    assert "You have no calendar feed" in text(mei.get("/practitioner/calendar-feed"))
    created = post(mei, "/practitioner/calendar-feed/new")
    assert created.status_code == 200
    first = _feed_url(created)
    anonymous = demo.test_client()
    served = anonymous.get(first)
    assert served.status_code == 200
    assert served.mimetype == "text/calendar"
    body = served.get_data(as_text=True)
    calendar = Calendar.from_ical(body)
    (event,) = calendar.walk("VEVENT")
    assert str(event["summary"]) == "J.S. – Follow-up acupuncture"
    for secret in ("Jane", "Smith", "SECRET-CONCERN", "Ola", "@factory.example"):
        assert secret not in body
    with demo.app_context():  # only the token's SHA-256 is kept
        stored = db.session.scalar(
            select(Practitioner.feed_token_hash).where(Practitioner.feed_token_hash.is_not(None))
        )
    token = first.rsplit("/", 1)[1].removesuffix(".ics")
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    second = _feed_url(post(mei, "/practitioner/calendar-feed/new"))
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200
    assert post(mei, "/practitioner/calendar-feed/stop").status_code == 302
    assert anonymous.get(second).status_code == 404
    with demo.app_context():
        mei_row = db.session.scalar(
            select(Practitioner).where(Practitioner.display_name == "Mei Lin Chen")
        )
        assert mei_row.feed_token_hash is None
        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("calendar_feed.%"))
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["calendar_feed.create", "calendar_feed.rotate", "calendar_feed.revoke"]
