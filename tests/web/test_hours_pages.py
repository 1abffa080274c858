"""Practitioners, weekly hours, time off and closures: the admin pages and the practitioner's own.

Changes never move a booked session; the pages list the sessions left outside open hours.
Demo ids: practitioners 1 Mei Lin Chen (the demo practitioner), 2 Tom Okafor, 3 Aoife Byrne,
4 Sam Patel; locations 1 Islington, 2 Dublin; hours 1 is Mei's Monday 9am to 1pm at Islington.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.forms.fields import parse_clock
from booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    OutboxMessage,
    PatientProfile,
    Practitioner,
    ScheduleException,
    SessionType,
    User,
    WorkingHours,
)
from tests.conftest import csrf_from, freeze_clock, sign_in
from tests.web.test_setup_pages import BANNED, assert_error, post, summary_items

# Tuesday 13 April 2027, 10am in London.
NOW = datetime(2027, 4, 13, 9, 0, tzinfo=UTC)
MONDAY = date(2027, 4, 19)
SUNDAY = date(2027, 4, 18)
PAGES = [
    ("admin", "/admin/practitioners", "Practitioners"),
    ("admin", "/admin/practitioners/new", "Add a practitioner"),
    ("admin", "/admin/practitioners/1", "Change practitioner: Mei Lin Chen"),
    ("admin", "/admin/practitioners/4/hours", "Working hours: Sam Patel"),
    ("admin", "/admin/practitioners/1/time-off", "Time off and extra hours: Mei Lin Chen"),
    ("admin", "/admin/closures", "Closures and holidays"),
    ("practitioner", "/practitioner/hours", "Your working hours"),
    ("practitioner", "/practitioner/time-off", "Your time off and extra hours"),
]
HOURS = "/admin/practitioners/1/hours"
TIME_OFF = "/admin/practitioners/1/time-off"


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    freeze_clock(monkeypatch, NOW)


@pytest.fixture
def admin(login_as: Callable[[str], FlaskClient], fixed_clock: None) -> FlaskClient:
    return login_as("admin")


@pytest.fixture
def mei(login_as: Callable[[str], FlaskClient], fixed_clock: None) -> FlaskClient:
    """Mei Lin Chen, practitioner 1, signed in."""
    return login_as("practitioner")


def day_parts(prefix: str, day: date) -> dict[str, str]:
    """The three boxes of a GOV.UK date input."""
    return {
        f"{prefix}-day": str(day.day),
        f"{prefix}-month": str(day.month),
        f"{prefix}-year": str(day.year),
    }


def hours(**changes: str) -> dict[str, str]:
    return {
        "location_id": "1",
        "weekday": "6",
        "start_time": "10:00",
        "end_time": "13:00",
        **changes,
    }


def time_off(day: date = MONDAY, **changes: str) -> dict[str, str]:
    return {"kind": "time_off", **day_parts("on_date", day), "reason": "", **changes}


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def book(
    app: Flask,
    *,
    practitioner_id: int,
    location_id: int,
    starts_at: datetime,
    status: str = "booked",
    patient_index: int = 0,
) -> int:
    """A 30-minute follow-up written straight to the table (no room, so no room guard)."""
    with app.app_context():
        session_type = db.session.scalar(
            select(SessionType).where(SessionType.slug == "follow-up-acupuncture")
        )
        patient = db.session.scalars(select(PatientProfile).order_by(PatientProfile.id)).all()[
            patient_index
        ]
        ends_at = starts_at + timedelta(minutes=30)
        appointment = Appointment(
            status=AppointmentStatus(status),
            starts_at=starts_at,
            ends_at=ends_at,
            busy_from=starts_at,
            busy_until=ends_at + timedelta(minutes=5),
            practitioner_id=practitioner_id,
            location_id=location_id,
            patient_id=patient.id,
            session_type_id=session_type.id,
            booked_at=NOW,
            ics_uid=f"hours-{practitioner_id}-{starts_at:%Y%m%d%H%M}-{status}@meridian.example",
        )
        db.session.add(appointment)
        db.session.commit()
        return appointment.id


def main_html(response: object) -> str:
    html = response.get_data(as_text=True)
    return re.search(r"<main.*</main>", html, re.S).group(0)


# ---- Every page ------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "path", "heading"), PAGES)
def test_each_page_has_its_h1_as_title(
    login_as: Callable[[str], FlaskClient], role: str, path: str, heading: str
) -> None:
    response = login_as(role).get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.findall(r"<h1[^>]*>\s*(.*?)\s*</h1>", html, re.S) == [heading]
    assert f"<title>{heading} – " in html
    assert "required" not in html.replace('"required"', "")
    assert html.count("<form") == html.count(" novalidate")
    assert 'aria-label="Back"' in html


def test_home_pages_link_to_the_new_pages(login_as: Callable[[str], FlaskClient]) -> None:
    admin_home = login_as("admin").get("/admin/").get_data(as_text=True)
    assert 'href="/admin/practitioners"' in admin_home
    assert 'href="/admin/closures"' in admin_home
    own = login_as("practitioner").get("/practitioner/").get_data(as_text=True)
    assert 'href="/practitioner/hours"' in own
    assert 'href="/practitioner/time-off"' in own


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9:00", time(9)),
        ("9", time(9)),
        ("17:30", time(17, 30)),
        ("5pm", time(17)),
        ("5 PM", time(17)),
        ("2:30pm", time(14, 30)),
        ("2.30 p.m.", time(14, 30)),
        ("0930", time(9, 30)),
        ("930", time(9, 30)),
        ("12am", time(0)),  # midnight
        ("12pm", time(12)),
        ("noon", time(12)),
        ("0:00", time(0)),
        ("24:00", None),  # no 24:00 in a day
        ("13pm", None),
        ("9:60", None),
        ("nine", None),
        ("", None),
        ("9:00:00", None),
    ],
)
def test_times_are_read_leniently(text: str, expected: time | None) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/admin/practitioners/new", ["display_name", "email"]),
        ("/admin/practitioners/1", ["display_name", "bio", "session_type_ids"]),
        (HOURS, ["location_id", "weekday", "start_time", "end_time"]),
        (TIME_OFF, ["kind", "on_date-day", "start_time", "reason"]),
        ("/admin/closures", ["kind", "location_id", "on_date-month", "end_time"]),
    ],
)
@pytest.mark.parametrize("value", ["", "x" * 300, "\u0000<script>"])
def test_no_error_message_uses_banned_words(
    admin: FlaskClient, path: str, fields: list[str], value: str
) -> None:
    response = post(admin, path, dict.fromkeys(fields, value))
    assert response.status_code in {200, 422}
    items = summary_items(response.get_data(as_text=True))
    assert items
    for _href, text in items:
        assert not any(word in text.lower() for word in BANNED), text
        assert text[0].isupper(), text
        assert not text.endswith("."), text


# ---- Practitioners ---------------------------------------------------------------------------


def test_the_list_shows_everyone_with_links(admin: FlaskClient) -> None:
    html = admin.get("/admin/practitioners").get_data(as_text=True)
    for name in ("Mei Lin Chen", "Tom Okafor", "Aoife Byrne", "Sam Patel"):
        assert name in html
    assert "mei.chen@meridian.example" in html
    assert 'href="/admin/practitioners/4/hours"' in html
    assert 'Working hours<span class="govuk-visually-hidden"> of Sam Patel</span>' in html


def test_add_a_practitioner_who_chooses_a_password_and_signs_in(
    admin: FlaskClient, demo: Flask
) -> None:
    data = {"display_name": " Ana  Silva ", "email": "Ana.Silva@Meridian.Example"}
    response = post(admin, "/admin/practitioners/new", data)
    assert response.status_code == 302
    with demo.app_context():
        added = db.session.scalar(
            select(Practitioner).where(Practitioner.display_name == "Ana Silva")
        )
        assert added.user.email == "ana.silva@meridian.example"
        assert added.user.role == "practitioner"
        assert added.session_types == []
        assert response.headers["Location"] == f"/admin/practitioners/{added.id}"
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "setup.practitioner.create")
        )
        assert (event.object_id, event.actor_role) == (added.id, "admin")
        body = db.session.scalar(
            select(OutboxMessage.body_text).where(OutboxMessage.kind == "auth.invitation")
        )
    assert "Ana Silva added and invited" in admin.get(response.headers["Location"]).get_data(
        as_text=True
    )
    link = re.search(r"http://\S+", body or "")
    assert link is not None
    path = link.group(0).removeprefix("http://127.0.0.1:5000")
    fresh = demo.test_client()
    page = fresh.get(path)
    chosen = "a password only Ana knows"
    data = {"new_password": chosen, "confirm_password": chosen}
    done = fresh.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True)), **data})
    assert done.status_code == 303
    assert fresh.get("/practitioner/hours").status_code == 200  # nothing yet, but their own page


@pytest.mark.parametrize(
    ("changes", "message", "status"),
    [
        ({"display_name": ""}, "Enter a name", 200),
        ({"display_name": "n" * 101}, "Name must be 100 characters or fewer", 200),
        ({"email": ""}, "Enter an email address", 200),
        (
            {"email": "ana@"},
            "Enter an email address in the correct format, like name@example.com",
            200,
        ),
        ({"email": "a" * 250 + "@x.io"}, "Email address must be 254 characters or fewer", 200),
        (
            {"email": "MEI.CHEN@meridian.example"},
            "There is already an account with this email address",
            422,
        ),
    ],
)
def test_new_practitioner_errors(
    admin: FlaskClient, demo: Flask, changes: dict[str, str], message: str, status: int
) -> None:
    data = {"display_name": "Ana Silva", "email": "ana@meridian.example"}
    response = post(admin, "/admin/practitioners/new", {**data, **changes})
    assert_error(response, "Add a practitioner", message, status)
    assert count(demo, Practitioner) == 4


def practitioner_edit(**changes: object) -> dict[str, object]:
    return {
        "display_name": "Mei Lin Chen",
        "bio": "Trained in Chengdu.",
        "session_type_ids": ["1", "3"],
        "can_review_articles": "no",
        "is_active": "yes",
        **changes,
    }


def test_edit_a_practitioner(admin: FlaskClient, demo: Flask) -> None:
    form = admin.get("/admin/practitioners/1").get_data(as_text=True)
    assert form.count('name="session_type_ids" type="checkbox"') == 4
    data = practitioner_edit(display_name="Mei Chen", is_active="no")
    assert post(admin, "/admin/practitioners/1", data).status_code == 302
    with demo.app_context():
        mei = db.session.get(Practitioner, 1)
        assert (mei.display_name, mei.user.display_name, mei.bio) == (
            "Mei Chen",
            "Mei Chen",
            "Trained in Chengdu.",
        )
        assert [t.id for t in mei.session_types] == [1, 3]
        assert (mei.can_review_articles, mei.is_active) == (False, False)
    page = admin.get("/admin/practitioners").get_data(as_text=True)
    assert "Changes to Mei Chen saved" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"display_name": " "}, "Enter a name"),
        ({"bio": "b" * 2001}, "Bio must be 2,000 characters or fewer"),
        ({"session_type_ids": ["99"]}, "Select session types from the list"),
        ({"is_active": "perhaps"}, "Select yes if they are taking bookings"),
        ({"can_review_articles": None}, "Select yes if they can review articles"),
    ],
)
def test_edit_practitioner_errors(
    admin: FlaskClient, demo: Flask, changes: dict[str, object], message: str
) -> None:
    data = {k: v for k, v in practitioner_edit(**changes).items() if v is not None}
    response = post(admin, "/admin/practitioners/1", data)
    assert_error(response, "Change practitioner: Mei Lin Chen", message)
    with demo.app_context():
        assert db.session.get(Practitioner, 1).bio == ""


def test_unknown_practitioner_is_not_found(admin: FlaskClient) -> None:
    for path in ("/admin/practitioners/99", "/admin/practitioners/99/hours"):
        assert admin.get(path).status_code == 404


# ---- Weekly hours ----------------------------------------------------------------------------


def test_hours_are_grouped_by_location_then_weekday(admin: FlaskClient) -> None:
    html = main_html(admin.get("/admin/practitioners/4/hours"))
    dublin, islington = (
        html.index("Dublin, times in Europe/Dublin"),
        html.index("Islington, times in Europe/London"),
    )
    assert dublin < islington  # locations by name
    assert html.index("Monday", islington) < html.index("Wednesday", islington)
    assert "12pm to 8pm" in html
    assert 'Remove<span class="govuk-visually-hidden"> Friday 9am to 5pm at Dublin</span>' in html


def test_add_hours_with_lenient_times(admin: FlaskClient, demo: Flask) -> None:
    data = hours(start_time=" 10am", end_time="2.30 pm", **day_parts("valid_from", MONDAY))
    response = post(admin, HOURS, data)
    assert response.status_code == 302
    assert response.headers["Location"] == HOURS
    page = main_html(admin.get(HOURS))
    assert "Hours added: Sunday 10am to 2:30pm at Islington" in page
    assert "From Monday 19 April 2027" in page
    with demo.app_context():
        added = db.session.scalar(select(WorkingHours).where(WorkingHours.weekday == 6))
        assert (added.practitioner_id, added.start_time, added.end_time) == (
            1,
            time(10),
            time(14, 30),
        )
        assert (added.valid_from, added.valid_until) == (MONDAY, None)
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "setup.hours.add"))
        assert event.detail == "Sunday 10am to 2:30pm at Islington"


@pytest.mark.parametrize(
    ("changes", "message", "status"),
    [
        ({"start_time": ""}, "Enter a start time, like 9:00 or 2:30pm", 200),
        ({"start_time": "25:00"}, "Enter a start time, like 9:00 or 2:30pm", 200),
        ({"start_time": "9" * 300}, "Enter a start time, like 9:00 or 2:30pm", 200),
        ({"end_time": "teatime"}, "Enter an end time, like 5:30pm or 17:30", 200),
        ({"end_time": "9am"}, "End time must be after start time", 422),  # end before start
        ({"end_time": "10:00"}, "End time must be after start time", 422),  # empty interval
        # Mei's Monday 9am to 1pm at Islington.
        (
            {"weekday": "0", "start_time": "12:00", "end_time": "15:00"},
            "These hours overlap Monday 9am to 1pm at Islington",
            422,
        ),
        # At another location: still Mei, still Monday morning.
        (
            {"weekday": "0", "location_id": "2", "start_time": "8am", "end_time": "9:30"},
            "These hours overlap Monday 9am to 1pm at Islington",
            422,
        ),
        ({"location_id": "99"}, "Select a location from the list", 200),  # unknown location
        ({"location_id": ""}, "Select a location from the list", 200),
        ({"weekday": "7"}, "Select a day", 200),
        ({"weekday": ""}, "Select a day", 200),
        (
            {"valid_from-day": "31", "valid_from-month": "2", "valid_from-year": "2027"},
            "First day must be a real date",
            200,
        ),
        (
            {"valid_until-day": "3", "valid_until-year": "2027"},
            "Last day must include a month",
            200,
        ),
        (
            {"valid_from-day": "3", "valid_from-month": "jan", "valid_from-year": "27"},
            "Year must include 4 numbers",
            200,
        ),
        (
            {**day_parts("valid_from", MONDAY), **day_parts("valid_until", SUNDAY)},
            "The last day must be the same as or after the first day",
            422,
        ),
    ],
)
def test_hours_errors_change_nothing(
    admin: FlaskClient, demo: Flask, changes: dict[str, str], message: str, status: int
) -> None:
    before = count(demo, WorkingHours)
    html = assert_error(
        post(admin, HOURS, hours(**changes)), "Working hours: Mei Lin Chen", message, status
    )
    assert "Monday" in html
    assert "Remove" in html  # the list is still shown
    assert count(demo, WorkingHours) == before


def test_touching_hours_do_not_overlap(admin: FlaskClient, demo: Flask) -> None:
    # Mei's lunch hour, back to back with 9am to 1pm and 2pm to 6pm: half-open intervals.
    assert (
        post(admin, HOURS, hours(weekday="0", start_time="1pm", end_time="2pm")).status_code == 302
    )
    with demo.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(WorkingHours)
                .where(WorkingHours.practitioner_id == 1, WorkingHours.weekday == 0)
            )
            == 3
        )


def test_remove_hours_with_a_button_naming_them(admin: FlaskClient, demo: Flask) -> None:
    page = admin.get(HOURS).get_data(as_text=True)
    assert (
        'Remove<span class="govuk-visually-hidden"> Monday 9am to 1pm at Islington</span>' in page
    )
    response = admin.post(f"{HOURS}/1/remove", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert response.headers["Location"] == HOURS
    assert "Hours removed: Monday 9am to 1pm at Islington" in admin.get(HOURS).get_data(
        as_text=True
    )
    with demo.app_context():
        assert db.session.get(WorkingHours, 1) is None
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "setup.hours.remove")
        )
        assert event.object_id == 1


def test_hours_of_someone_else_are_not_found_through_another_page(
    admin: FlaskClient, demo: Flask
) -> None:
    token = csrf_from(admin.get(HOURS).get_data(as_text=True))
    # Hours 11 are Tom's: not found under Mei's page, and not removed.
    assert admin.post(f"{HOURS}/11/remove", data={"csrf_token": token}).status_code == 404
    with demo.app_context():
        assert db.session.get(WorkingHours, 11).practitioner_id == 2


# ---- Sessions left outside hours -------------------------------------------------------------


def test_removing_hours_lists_the_sessions_left_outside_them(
    admin: FlaskClient, demo: Flask
) -> None:
    monday_10 = datetime(2027, 4, 19, 9, 0, tzinfo=UTC)  # 10am BST
    kept = book(demo, practitioner_id=1, location_id=1, starts_at=monday_10)
    checked_in = book(
        demo,
        practitioner_id=1,
        location_id=1,
        starts_at=monday_10 + timedelta(days=7),
        status="checked_in",
        patient_index=1,
    )
    # Not listed: cancelled, in the afternoon hours, or already over.
    book(
        demo,
        practitioner_id=1,
        location_id=1,
        starts_at=monday_10 + timedelta(hours=1),
        status="cancelled",
    )
    book(demo, practitioner_id=1, location_id=1, starts_at=monday_10 + timedelta(hours=5))
    book(
        demo,
        practitioner_id=1,
        location_id=1,
        starts_at=monday_10 - timedelta(days=7),
        status="completed",
    )
    assert "outside working hours" not in admin.get(HOURS).get_data(as_text=True)

    page = admin.get(HOURS).get_data(as_text=True)
    response = admin.post(f"{HOURS}/1/remove", data={"csrf_token": csrf_from(page)})
    html = main_html(admin.get(response.headers["Location"]))
    assert "These 2 sessions are now outside working hours" in html
    assert "Monday 19 April 2027, 10am to 10:30am BST" in html
    assert "Alex Morgan" in html
    assert "Priya Shah" in html
    assert "Follow-up acupuncture" in html
    with demo.app_context():  # never moved
        assert db.session.get(Appointment, kept).starts_at == monday_10
        assert db.session.get(Appointment, checked_in).status == "checked_in"
    # The list stays on the hours page while it is not empty.
    assert "These 2 sessions" in admin.get(HOURS).get_data(as_text=True)
    # Hours back: nothing to list.
    assert (
        post(admin, HOURS, hours(weekday="0", start_time="9am", end_time="1pm")).status_code == 302
    )
    assert "outside working hours" not in admin.get(HOURS).get_data(as_text=True)


def test_time_off_lists_the_session_it_covers(admin: FlaskClient, demo: Flask) -> None:
    book(demo, practitioner_id=1, location_id=1, starts_at=datetime(2027, 4, 19, 13, 0, tzinfo=UTC))
    data = time_off(start_time="2pm", end_time="3pm", reason="Dentist")
    assert post(admin, TIME_OFF, data).status_code == 302
    html = main_html(admin.get(TIME_OFF))
    assert "Time off on Monday 19 April 2027 added" in html
    assert "This session is now outside working hours" in html
    assert "2pm to 2:30pm BST" in html
    assert "Dentist" in html
    assert "This session is now outside" in admin.get(HOURS).get_data(as_text=True)


# ---- Time off and extra hours ----------------------------------------------------------------


def test_whole_day_time_off_and_extra_hours(admin: FlaskClient, demo: Flask) -> None:
    assert post(admin, TIME_OFF, time_off()).status_code == 302
    extra = time_off(SUNDAY, kind="extra_hours", start_time="10", end_time="12", location_id="2")
    assert post(admin, TIME_OFF, extra).status_code == 302
    html = main_html(admin.get(TIME_OFF))
    assert "Extra hours on Sunday 18 April 2027 added" in html
    sunday, monday = (
        html.index("Sunday 18 April 2027</th>"),
        html.index("Monday 19 April 2027</th>"),
    )
    assert sunday < monday
    assert "All day" in html
    assert "10am to 12pm" in html
    assert "Dublin" in html
    with demo.app_context():
        rows = db.session.scalars(
            select(ScheduleException).order_by(ScheduleException.on_date)
        ).all()
        assert [(r.kind, r.practitioner_id, r.location_id, r.start_time) for r in rows] == [
            ("extra_hours", 1, 2, time(10)),
            ("time_off", 1, None, None),
        ]


@pytest.mark.parametrize(
    ("changes", "message", "status"),
    [
        ({"kind": ""}, "Select time off or extra hours", 200),
        ({"on_date-day": "", "on_date-month": "", "on_date-year": ""}, "Enter the date", 200),
        ({"on_date-day": "30", "on_date-month": "2"}, "Date must be a real date", 200),
        (day_parts("on_date", date(2027, 4, 12)), "Date must be today or in the future", 422),
        ({"start_time": "2pm"}, "Enter an end time, like 5:30pm or 17:30", 422),
        ({"end_time": "2pm"}, "Enter a start time, like 9:00 or 2:30pm", 422),
        ({"start_time": "3pm", "end_time": "2pm"}, "End time must be after start time", 422),
        ({"start_time": "half two"}, "Enter a start time, like 9:00 or 2:30pm", 200),
        ({"reason": "r" * 201}, "Reason must be 200 characters or fewer", 200),
        (
            {"kind": "extra_hours", "start_time": "6pm", "end_time": "8pm"},
            "Select where the extra hours are",
            422,
        ),
        (
            {"kind": "extra_hours", "location_id": "1"},
            "Enter a start time, like 9:00 or 2:30pm",
            422,
        ),
        (
            {"kind": "extra_hours", "location_id": "99", "start_time": "6pm", "end_time": "8pm"},
            "Select where the extra hours are",
            200,
        ),
        # Monday: Mei works 9am to 1pm and 2pm to 6pm at Islington, whichever location is chosen.
        (
            {"kind": "extra_hours", "location_id": "2", "start_time": "5pm", "end_time": "7pm"},
            "These extra hours overlap working hours, 2pm to 6pm at Islington",
            422,
        ),
    ],
)
def test_time_off_errors_change_nothing(
    admin: FlaskClient, demo: Flask, changes: dict[str, str], message: str, status: int
) -> None:
    response = post(admin, TIME_OFF, time_off(**changes))
    assert_error(response, "Time off and extra hours: Mei Lin Chen", message, status)
    assert count(demo, ScheduleException) == 0


def test_extra_hours_cannot_overlap_extra_hours(admin: FlaskClient, demo: Flask) -> None:
    first = time_off(SUNDAY, kind="extra_hours", start_time="10am", end_time="12", location_id="1")
    assert post(admin, TIME_OFF, first).status_code == 302
    second = {**first, "start_time": "11:30", "end_time": "1pm"}
    message = "These extra hours overlap extra hours already added, 10am to 12pm"
    assert_error(
        post(admin, TIME_OFF, second), "Time off and extra hours: Mei Lin Chen", message, 422
    )
    assert count(demo, ScheduleException) == 1


def test_remove_time_off(admin: FlaskClient, demo: Flask) -> None:
    post(admin, TIME_OFF, time_off())
    page = admin.get(TIME_OFF).get_data(as_text=True)
    assert (
        'Remove<span class="govuk-visually-hidden"> Time off, Monday 19 April 2027, All day</span>'
        in page
    )
    with demo.app_context():
        row_id = db.session.scalar(select(ScheduleException.id))
    # Not Tom's to remove.
    token = csrf_from(page)
    assert (
        admin.post(
            f"/admin/practitioners/2/time-off/{row_id}/remove", data={"csrf_token": token}
        ).status_code
        == 404
    )
    response = admin.post(f"{TIME_OFF}/{row_id}/remove", data={"csrf_token": token})
    assert response.status_code == 302
    assert "Time off on Monday 19 April 2027 removed" in admin.get(TIME_OFF).get_data(as_text=True)
    assert count(demo, ScheduleException) == 0


# ---- Closures and holidays -------------------------------------------------------------------


def closure(**changes: str) -> dict[str, str]:
    return {
        "kind": "closure",
        "location_id": "1",
        **day_parts("on_date", MONDAY),
        "reason": "",
        **changes,
    }


def test_a_closure_lists_every_practitioner_session_it_covers(
    admin: FlaskClient, demo: Flask
) -> None:
    book(demo, practitioner_id=1, location_id=1, starts_at=datetime(2027, 4, 19, 9, tzinfo=UTC))
    book(
        demo,
        practitioner_id=4,
        location_id=1,
        starts_at=datetime(2027, 4, 19, 12, tzinfo=UTC),
        patient_index=2,
    )
    book(
        demo,
        practitioner_id=1,
        location_id=1,
        starts_at=datetime(2027, 4, 20, 9, tzinfo=UTC),
        patient_index=3,
    )  # Tuesday: open
    assert post(admin, "/admin/closures", closure(reason="Boiler repair")).status_code == 302
    html = main_html(admin.get("/admin/closures"))
    assert "Closure on Monday 19 April 2027 added" in html
    assert "These 2 sessions are now outside working hours" in html
    assert "Mei Lin Chen" in html
    assert "Sam Patel" in html
    assert "Grace Adeyemi" not in html
    assert "Boiler repair" in html
    assert "Islington" in html
    # Tuesday's session is not on a closure date; Mei's own page lists the Monday one.
    assert "This session is now outside" in admin.get(HOURS).get_data(as_text=True)
    page = admin.get("/admin/closures").get_data(as_text=True)
    with demo.app_context():
        row_id = db.session.scalar(select(ScheduleException.id))
    response = admin.post(f"/admin/closures/{row_id}/remove", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    html = main_html(admin.get("/admin/closures"))
    assert "Closure on Monday 19 April 2027 removed" in html
    assert "outside working hours" not in html


def test_a_clinic_wide_holiday_shows_on_practitioner_pages(
    admin: FlaskClient, mei: FlaskClient
) -> None:
    data = closure(kind="holiday", location_id="", start_time="1pm", end_time="6pm")
    assert post(admin, "/admin/closures", data).status_code == 302
    html = main_html(mei.get("/practitioner/time-off"))
    assert "Public holiday" in html
    assert "Every location" in html
    assert "1pm to 6pm" in html
    assert "Set by the clinic" in html  # practitioners cannot remove it


@pytest.mark.parametrize(
    ("changes", "message", "status"),
    [
        ({"kind": "time_off"}, "Select closure or public holiday", 200),
        ({"location_id": "99"}, "Select where it applies", 200),
        ({"on_date-year": "2026"}, "Date must be today or in the future", 422),
        ({"start_time": "9am", "end_time": "8am"}, "End time must be after start time", 422),
        ({"reason": "r" * 201}, "Reason must be 200 characters or fewer", 200),
    ],
)
def test_closure_errors_change_nothing(
    admin: FlaskClient, demo: Flask, changes: dict[str, str], message: str, status: int
) -> None:
    assert_error(
        post(admin, "/admin/closures", closure(**changes)), "Closures and holidays", message, status
    )
    assert count(demo, ScheduleException) == 0


def test_closures_are_not_removed_as_time_off(
    admin: FlaskClient, mei: FlaskClient, demo: Flask
) -> None:
    post(admin, "/admin/closures", closure())
    with demo.app_context():
        row_id = db.session.scalar(select(ScheduleException.id))
    token = csrf_from(mei.get("/practitioner/time-off").get_data(as_text=True))
    assert (
        mei.post(f"/practitioner/time-off/{row_id}/remove", data={"csrf_token": token}).status_code
        == 404
    )
    assert count(demo, ScheduleException) == 1


# ---- The practitioner's own pages ------------------------------------------------------------


def test_a_practitioner_sees_and_changes_only_their_own_hours(
    mei: FlaskClient, demo: Flask
) -> None:
    html = main_html(mei.get("/practitioner/hours"))
    assert "9am to 1pm" in html
    assert "2pm to 6pm" in html
    assert "10am to 4pm" not in html  # Tom's
    assert "Saturday</th>" not in html  # Tom works Saturdays; Mei does not
    response = post(mei, "/practitioner/hours", hours(start_time="9", end_time="noon"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/practitioner/hours"
    assert "Hours added: Sunday 9am to 12pm at Islington" in mei.get(
        "/practitioner/hours"
    ).get_data(as_text=True)
    with demo.app_context():
        added = db.session.scalar(select(WorkingHours).where(WorkingHours.weekday == 6))
        assert added.practitioner_id == 1
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "setup.hours.add"))
        assert event.actor_role == "practitioner"


def test_a_practitioner_gets_the_same_errors(mei: FlaskClient, demo: Flask) -> None:
    data = hours(weekday="4", start_time="17:00", end_time="19:00")  # Friday 2pm to 6pm
    response = post(mei, "/practitioner/hours", data)
    assert_error(
        response, "Your working hours", "These hours overlap Friday 2pm to 6pm at Islington", 422
    )
    response = post(mei, "/practitioner/time-off", time_off(date(2027, 4, 12)))
    message = "Date must be today or in the future"
    assert_error(response, "Your time off and extra hours", message, 422)
    assert count(demo, ScheduleException) == 0


def test_another_practitioners_hours_and_time_off_are_not_found(
    mei: FlaskClient, admin: FlaskClient, demo: Flask
) -> None:
    post(admin, "/admin/practitioners/2/time-off", time_off())  # Tom's time off
    with demo.app_context():
        toms_time_off = db.session.scalar(select(ScheduleException.id))
    token = csrf_from(mei.get("/practitioner/hours").get_data(as_text=True))
    assert mei.post("/practitioner/hours/11/remove", data={"csrf_token": token}).status_code == 404
    assert (
        mei.post(
            f"/practitioner/time-off/{toms_time_off}/remove", data={"csrf_token": token}
        ).status_code
        == 404
    )
    with demo.app_context():
        assert db.session.get(WorkingHours, 11) is not None
        assert db.session.get(ScheduleException, toms_time_off) is not None
    # And the admin pages of anyone stay closed to them.
    assert mei.get("/admin/practitioners/1/hours").status_code == 403
    assert mei.get("/admin/practitioners/2/hours").status_code == 403
    assert "Tom" not in main_html(mei.get("/practitioner/time-off"))


def test_a_practitioner_removes_their_own_hours(mei: FlaskClient, demo: Flask) -> None:
    token = csrf_from(mei.get("/practitioner/hours").get_data(as_text=True))
    response = mei.post("/practitioner/hours/2/remove", data={"csrf_token": token})
    assert response.status_code == 302
    assert "Hours removed: Monday 2pm to 6pm at Islington" in mei.get(
        "/practitioner/hours"
    ).get_data(as_text=True)
    with demo.app_context():
        assert db.session.get(WorkingHours, 2) is None


def test_a_practitioner_takes_time_off(mei: FlaskClient, demo: Flask) -> None:
    book(demo, practitioner_id=1, location_id=1, starts_at=datetime(2027, 4, 19, 9, tzinfo=UTC))
    assert post(mei, "/practitioner/time-off", time_off()).status_code == 302
    html = main_html(mei.get("/practitioner/time-off"))
    assert "Time off on Monday 19 April 2027 added" in html
    assert "This session is now outside working hours" in html
    assert "Practitioner</th>" not in html  # their own sessions: no practitioner column
    with demo.app_context():
        row = db.session.scalar(select(ScheduleException))
        assert (row.practitioner_id, row.kind) == (1, "time_off")


def test_a_practitioner_without_a_practitioner_row_gets_not_found(
    demo: Flask, fixed_clock: None
) -> None:
    from booking.security import password_cost
    from booking.services.accounts.passwords import hash_password

    with demo.app_context():
        db.session.add(
            User(
                email="no.row@meridian.example",
                role="practitioner",
                display_name="No row",
                password_hash=hash_password("no row password 123", cost=password_cost()),
            )
        )
        db.session.commit()
    client = demo.test_client()
    sign_in(client, "no.row@meridian.example", "no row password 123")
    assert client.get("/practitioner/hours").status_code == 404
    assert client.get("/practitioner/time-off").status_code == 404
