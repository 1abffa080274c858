"""Clinic set-up pages: booking policies, locations, rooms and session types (admin only)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Clinic,
    Location,
    PatientProfile,
    Room,
    SessionType,
)
from booking.services.clinic.session_types import offered_by
from tests.conftest import count_queries, csrf_from, freeze_clock
from tests.web.access.setup import POST_DATA

NOW = datetime(2027, 4, 13, 9, 0, tzinfo=UTC)
BANNED = ("please", "sorry", "valid", "invalid", "required")
PAGES = [
    ("/admin/policies", "Booking policies"),
    ("/admin/locations", "Locations and rooms"),
    ("/admin/locations/new", "Add a location"),
    ("/admin/locations/1", "Change location: Islington"),
    ("/admin/locations/1/rooms/new", "Add a room at Islington"),
    ("/admin/rooms/1", "Change room: Treatment room 1, Islington"),
    ("/admin/session-types", "Session types"),
    ("/admin/session-types/new", "Add a session type"),
    ("/admin/session-types/1", "Change session type: First acupuncture session"),
]
FORMS = {
    "/admin/policies": "admin.policies",
    "/admin/locations/new": "admin.location_new",
    "/admin/locations/1": "admin.location_edit",
    "/admin/locations/1/rooms/new": "admin.room_new",
    "/admin/rooms/1": "admin.room_edit",
    "/admin/session-types/new": "admin.session_type_new",
    "/admin/session-types/1": "admin.session_type_edit",
}


@pytest.fixture
def admin(login_as: Callable[[str], FlaskClient], monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    """The demo admin, signed in, with the set-up views' clock fixed at NOW."""
    freeze_clock(monkeypatch, NOW)  # first: the sign-in and the session checks share one clock
    return login_as("admin")


def post(client: FlaskClient, path: str, data: dict[str, object]) -> object:
    token = csrf_from(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def summary_items(html: str) -> list[tuple[str, str]]:
    """(href, text) of each link in the error summary."""
    box = re.search(r'class="govuk-error-summary".*?</ul>', html, re.S)
    assert box, "no error summary"
    return [
        (href, unescape(text.strip()))
        for href, text in re.findall(r'<a href="([^"]+)">\s*(.*?)\s*</a>', box.group(0), re.S)
    ]


def assert_error(response: object, title: str, message: str, status: int = 200) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:2000]
    assert f"<title>Error: {title} – " in html
    items = summary_items(html)
    assert message in [text for _href, text in items]
    for href, _text in items:  # every summary link lands on a field of the page
        assert f'id="{href[1:]}"' in html, href
    # The same message sits by the field, after a visually hidden "Error:".
    assert re.search(r"Error:</span>\s*" + re.escape(message.replace("'", "&#39;")), html)
    return html


def with_data(app: Flask, fn: Callable[[], object]) -> object:
    with app.app_context():
        return fn()


# ---- Every page ------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "heading"), PAGES)
def test_each_page_has_its_h1_as_title(admin: FlaskClient, path: str, heading: str) -> None:
    response = admin.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.findall(r"<h1[^>]*>\s*(.*?)\s*</h1>", html, re.S) == [heading]
    assert f"<title>{heading} – " in html
    assert "required" not in html.replace('"required"', "")
    assert " novalidate" in html
    assert 'aria-label="Back"' in html


def test_home_links_to_each_section(admin: FlaskClient) -> None:
    html = admin.get("/admin/").get_data(as_text=True)
    for path in ("/admin/policies", "/admin/locations", "/admin/session-types"):
        assert f'href="{path}"' in html


@pytest.mark.parametrize("path", list(FORMS))
@pytest.mark.parametrize("value", ["", "x" * 300, "\u0000<script>"])
def test_no_error_message_uses_banned_words(admin: FlaskClient, path: str, value: str) -> None:
    """ux.md §7: every message is plain, in GOV.UK style, with none of the banned words."""
    fields = dict.fromkeys(POST_DATA[FORMS[path]], value)
    fields.update({"name": value, "practitioner_ids": value, "modalities": value})
    response = post(admin, path, fields)
    assert response.status_code in {200, 422}
    items = summary_items(response.get_data(as_text=True))
    assert items
    for _href, text in items:
        assert not any(word in text.lower() for word in BANNED), text
        assert text[0].isupper(), text
        assert not text.endswith("."), text


# ---- Booking policies ------------------------------------------------------------------------


def test_policies_are_saved_with_a_banner_and_an_audit_row(admin: FlaskClient, demo: Flask) -> None:
    data = {**POST_DATA["admin.policies"], "min_notice_minutes": "1 440", "slot_step_minutes": "30"}
    data["late_cancel_mode"] = "record"
    response = post(admin, "/admin/policies", data)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert "Booking policies saved" in admin.get("/admin/").get_data(as_text=True)
    with demo.app_context():
        clinic = db.session.scalar(select(Clinic))
        assert (clinic.min_notice_minutes, clinic.slot_step_minutes) == (1440, 30)
        assert clinic.late_cancel_mode == "record"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action.like("setup.%")))
        assert event.action == "setup.policies.update"
        assert event.actor_role == "admin"
        assert event.detail == "late_cancel_mode, min_notice_minutes, slot_step_minutes"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("min_notice_minutes", "", "Enter the minimum notice in minutes"),
        (
            "min_notice_minutes",
            "two hours",
            "Minimum notice must be a whole number of minutes, like 120",
        ),  # noqa: E501
        ("min_notice_minutes", "-5", "Minimum notice must be a whole number of minutes, like 120"),
        ("min_notice_minutes", "10081", "Minimum notice must be between 0 and 10080 minutes"),
        ("max_advance_days", "0", "How far ahead patients can book must be between 1 and 730 days"),
        ("slot_step_minutes", "7", "Select how often sessions can start"),  # tampered radio
        ("slot_step_minutes", None, "Select how often sessions can start"),  # none chosen
        (
            "cancellation_cutoff_hours",
            "169",
            "The cancellation cut-off must be between 0 and 168 hours",
        ),  # noqa: E501
        ("late_cancel_mode", None, "Select what happens inside the cut-off"),
        ("missed_threshold", "0", "The number of missed sessions must be between 1 and 20"),
        (
            "missed_threshold",
            "1000000000",
            "The number of missed sessions must be a whole number, like 3",
        ),  # noqa: E501
    ],
)
def test_policy_errors_keep_the_answers_and_change_nothing(
    admin: FlaskClient, demo: Flask, field: str, value: str | None, message: str
) -> None:
    data = dict(POST_DATA["admin.policies"], min_notice_minutes="45")
    if value is None:
        del data[field]
    else:
        data[field] = value
    html = assert_error(post(admin, "/admin/policies", data), "Booking policies", message)
    if field != "min_notice_minutes":
        assert 'value="45"' in html  # the other answers are kept
    with demo.app_context():
        assert db.session.scalar(select(Clinic.min_notice_minutes)) == 120


# ---- Locations -------------------------------------------------------------------------------


def location(**changes: str) -> dict[str, str]:
    return {**POST_DATA["admin.location_new"], "name": "Camden", **changes}


def test_add_a_location(admin: FlaskClient, demo: Flask) -> None:
    data = location(timezone=" europe/london ", country_code="gb", min_notice_minutes="60")
    response = post(admin, "/admin/locations/new", data)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/locations"
    page = admin.get("/admin/locations").get_data(as_text=True)
    assert "Camden added" in page
    assert "Minimum notice: 60 minutes" in page
    with demo.app_context():
        camden = db.session.scalar(select(Location).where(Location.name == "Camden"))
        assert (camden.slug, camden.timezone, camden.country_code) == (
            "camden",
            "Europe/London",
            "GB",
        )
        assert camden.min_notice_minutes == 60
        assert camden.max_advance_days is None  # empty: the clinic's setting
        assert camden.slot_step_minutes is None


def test_renaming_a_location_keeps_its_slug(admin: FlaskClient, demo: Flask) -> None:
    data = location(name="Islington Green", slot_step_minutes="20", is_active="no")
    assert post(admin, "/admin/locations/1", data).status_code == 302
    assert "Changes to Islington Green saved" in admin.get("/admin/locations").get_data(
        as_text=True
    )
    with demo.app_context():
        islington = db.session.get(Location, 1)
        assert (islington.slug, islington.name) == ("islington", "Islington Green")
        assert (islington.slot_step_minutes, islington.is_active) == (20, False)


GB_PHONE = "Enter a phone number, like 07400 123456 or +44 7400 123456"


@pytest.mark.parametrize(
    ("changes", "message", "status"),
    [
        ({"name": ""}, "Enter a name", 200),
        ({"name": "n" * 101}, "Name must be 100 characters or fewer", 200),
        ({"name": " dublin "}, "There is already a location called dublin", 422),
        ({"address": "  "}, "Enter the address", 200),
        ({"phone": "12"}, GB_PHONE, 422),
        ({"phone": "0777 123"}, GB_PHONE, 422),
        ({"phone": "01632 960123"}, GB_PHONE, 422),
        ({"country_code": "XX"}, "Enter a two-letter country code, like GB or IE", 422),
        (
            {"timezone": "Mars/Olympus"},
            "Enter a time zone from the IANA list, like Europe/London",
            422,
        ),  # noqa: E501
        (
            {"max_advance_days": "731"},
            "How far ahead patients can book must be between 1 and 730 days",
            200,
        ),  # noqa: E501
        ({"slot_step_minutes": "25"}, "Select how often sessions can start", 200),
        ({"is_active": "maybe"}, "Select yes if patients can book here", 200),
    ],
)
def test_location_errors(
    admin: FlaskClient, demo: Flask, changes: dict[str, str], message: str, status: int
) -> None:
    response = post(admin, "/admin/locations/new", location(**changes))
    assert_error(response, "Add a location", message, status)
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(Location)) == 2


# ---- Rooms -----------------------------------------------------------------------------------


def room(**changes: str) -> dict[str, str]:
    return {**POST_DATA["admin.room_new"], "name": "Treatment room 2", **changes}


def test_add_a_room_and_see_it_listed(admin: FlaskClient, demo: Flask) -> None:
    response = post(admin, "/admin/locations/1/rooms/new", room(capacity="2", kind="community"))
    assert response.status_code == 302
    page = admin.get("/admin/locations").get_data(as_text=True)
    assert "Treatment room 2 added" in page
    assert 'Change<span class="govuk-visually-hidden"> Treatment room 2, Islington</span>' in page
    with demo.app_context():
        added = db.session.scalar(select(Room).where(Room.name == "Treatment room 2"))
        assert (added.location_id, added.kind, added.capacity) == (1, "community", 2)


def test_a_room_name_is_unique_per_location_only(admin: FlaskClient) -> None:
    taken = post(admin, "/admin/locations/1/rooms/new", room(name="treatment ROOM 1"))
    assert_error(
        taken,
        "Add a room at Islington",
        "There is already a room called treatment ROOM 1 here",
        422,
    )  # noqa: E501
    elsewhere = post(admin, "/admin/locations/2/rooms/new", room(name="Treatment room 1"))
    assert elsewhere.status_code == 302


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"capacity": "13"}, "Places must be between 1 and 12"),
        ({"capacity": "0"}, "Places must be between 1 and 12"),
        ({"capacity": ""}, "Enter the number of places"),
        ({"kind": "sauna"}, "Select the kind of room"),
        ({"sort_order": "1.5"}, "Position in lists must be a whole number, like 1"),
    ],
)
def test_room_errors(admin: FlaskClient, changes: dict[str, str], message: str) -> None:
    response = post(admin, "/admin/locations/1/rooms/new", room(**changes))
    assert_error(response, "Add a room at Islington", message)


def book(app: Flask, *, room_id: int, place: int, starts_at: datetime, status: str) -> int:
    """A session in a room place, written straight to the table."""
    with app.app_context():
        session_type = db.session.scalar(
            select(SessionType).where(SessionType.slug == "community-acupuncture")
        )
        patient = db.session.scalar(select(PatientProfile).order_by(PatientProfile.id))
        ends_at = starts_at + timedelta(minutes=30)
        appointment = Appointment(
            status=AppointmentStatus(status),
            starts_at=starts_at,
            ends_at=ends_at,
            busy_from=starts_at,
            busy_until=ends_at + timedelta(minutes=5),
            practitioner_id=2,
            location_id=1,
            room_id=room_id,
            room_place=place,
            patient_id=patient.id,
            session_type_id=session_type.id,
            ics_uid=f"test-{room_id}-{place}-{starts_at:%Y%m%d%H%M}-{status}@meridian.example",
        )
        db.session.add(appointment)
        db.session.commit()
        return appointment.id


def test_places_cannot_drop_below_a_booked_place(admin: FlaskClient, demo: Flask) -> None:
    community = with_data(
        demo, lambda: db.session.scalar(select(Room.id).where(Room.name == "Community room"))
    )
    book(demo, room_id=community, place=3, starts_at=NOW + timedelta(days=1), status="booked")
    # Ignored: over before NOW, or cancelled.
    book(demo, room_id=community, place=4, starts_at=NOW - timedelta(days=1), status="completed")
    book(demo, room_id=community, place=4, starts_at=NOW + timedelta(days=2), status="cancelled")
    path = f"/admin/rooms/{community}"
    data = room(name="Community room", kind="community", capacity="2")
    message = "Places must be at least 3, because a session is booked in place 3 of this room"
    assert_error(post(admin, path, data), "Change room: Community room, Islington", message, 422)
    assert post(admin, path, {**data, "capacity": "3"}).status_code == 302
    with demo.app_context():
        assert db.session.get(Room, community).capacity == 3


# ---- Session types ---------------------------------------------------------------------------


def session_type(**changes: object) -> dict[str, object]:
    return {**POST_DATA["admin.session_type_new"], "name": "Gua sha", **changes}


def test_add_a_session_type(admin: FlaskClient, demo: Flask) -> None:
    data = session_type(
        price="£45.5", modalities=["gua_sha", "cupping"], practitioner_ids=["1", "3"]
    )
    response = post(admin, "/admin/session-types/new", data)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/session-types"
    page = admin.get("/admin/session-types").get_data(as_text=True)
    assert "Gua sha added" in page
    assert "£45.50" in page
    assert "Cupping, gua sha" in page
    with demo.app_context():
        added = db.session.scalar(select(SessionType).where(SessionType.name == "Gua sha"))
        assert (added.slug, added.price_pence, added.modalities) == (
            "gua-sha",
            4550,
            "cupping,gua_sha",
        )
        assert sorted(offered_by(added.id)) == [1, 3]


def test_change_who_offers_a_session_type(admin: FlaskClient, demo: Flask) -> None:
    path = "/admin/session-types/1"
    form = admin.get(path).get_data(as_text=True)
    assert form.count('name="practitioner_ids" type="checkbox"') == 4
    assert form.count("checked") >= 4  # everyone offers the first session, and its radios
    data = {**session_type(name="First acupuncture session"), "price": ""}
    data["practitioner_ids"] = ["2"]
    assert post(admin, path, data).status_code == 302
    with demo.app_context():
        assert offered_by(1) == [2]
        assert db.session.get(SessionType, 1).price_pence is None  # empty: no price shown
    assert "Not shown" in admin.get("/admin/session-types").get_data(as_text=True)


def test_editing_a_session_type_never_touches_booked_rows(admin: FlaskClient, demo: Flask) -> None:
    community = with_data(
        demo, lambda: db.session.scalar(select(Room.id).where(Room.name == "Community room"))
    )
    starts_at = NOW + timedelta(days=1)
    appointment_id = book(demo, room_id=community, place=1, starts_at=starts_at, status="booked")
    type_id = with_data(demo, lambda: db.session.get(Appointment, appointment_id).session_type_id)
    data = session_type(
        name="Community acupuncture",
        duration_minutes="40",
        buffer_before_minutes="10",
        buffer_after_minutes="15",
        room_kind="community",
    )
    assert post(admin, f"/admin/session-types/{type_id}", data).status_code == 302
    with demo.app_context():
        booked = db.session.get(Appointment, appointment_id)
        assert (booked.starts_at, booked.ends_at) == (starts_at, starts_at + timedelta(minutes=30))
        assert (booked.busy_from, booked.busy_until) == (
            starts_at,
            starts_at + timedelta(minutes=35),
        )
        assert db.session.get(SessionType, type_id).duration_minutes == 40


@pytest.mark.parametrize(
    ("changes", "message", "status"),
    [
        ({"duration_minutes": "50"}, "Duration must be between 20 and 40 minutes", 200),
        ({"duration_minutes": "15"}, "Duration must be between 20 and 40 minutes", 200),
        (
            {"buffer_after_minutes": "31"},
            "Time after the session must be between 0 and 30 minutes",
            200,
        ),  # noqa: E501
        ({"buffer_before_minutes": ""}, "Enter the time before the session in minutes, or 0", 200),
        ({"price": "seventy"}, "Enter a price in pounds, like 70 or 45.50", 200),
        ({"price": "1000.01"}, "Price must be between £0 and £1,000", 200),
        ({"audience": ""}, "Select who can book it online", 200),
        ({"room_kind": None}, "Select the room it needs", 200),
        ({"modalities": ["needling", "bloodletting"]}, "Select treatments from the list", 200),
        ({"practitioner_ids": ["999"]}, "Select practitioners from the list", 200),
        (
            {"name": "follow-up ACUPUNCTURE"},
            "There is already a session type called follow-up ACUPUNCTURE",
            422,
        ),  # noqa: E501
    ],
)
def test_session_type_errors(
    admin: FlaskClient, demo: Flask, changes: dict[str, object], message: str, status: int
) -> None:
    data = session_type(**{k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        del data[key]
    response = post(admin, "/admin/session-types/new", data)
    assert_error(response, "Add a session type", message, status)
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(SessionType)) == 4


# ---- Queries ---------------------------------------------------------------------------------


def _add_locations(app: Flask, count: int) -> None:
    with app.app_context():
        for number in range(count):
            place = Location(
                name=f"Extra {number}", slug=f"extra-{number}", timezone="Europe/London"
            )
            db.session.add(place)
            db.session.flush()
            for kind in ("treatment", "community"):
                db.session.add(Room(location_id=place.id, name=kind, kind=kind, capacity=2))
            db.session.add(
                SessionType(
                    name=f"Extra type {number}",
                    slug=f"extra-type-{number}",
                    duration_minutes=30,
                )
            )
        db.session.commit()


@pytest.mark.parametrize("path", ["/admin/locations", "/admin/session-types"])
def test_list_pages_run_the_same_queries_for_many_rows(
    admin: FlaskClient, demo: Flask, path: str
) -> None:
    admin.get(path)  # warm up: the session row touch happens at most once a minute
    with count_queries(demo) as few:
        assert admin.get(path).status_code == 200
    _add_locations(demo, 20)
    with count_queries(demo) as many:
        html = admin.get(path).get_data(as_text=True)
    assert "Extra 19" in html or "Extra type 19" in html
    assert len(many) == len(few) <= 8
