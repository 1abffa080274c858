"""Public holidays close each location unless an admin opens them (issue 19).

Demo ids: location 1 Islington (GB-ENG), 2 Dublin (IE); Mei Lin Chen works at Islington on
Mondays, so Easter Monday 29 March 2027 is a day she would otherwise offer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEvent, HolidayOpening, SessionType
from booking.services.booking.availability import AvailabilityQuery, find_slots
from tests.conftest import csrf_from, freeze_clock

NOW = datetime(2027, 3, 1, 10, tzinfo=UTC)  # Monday 1 March 2027
EASTER_MONDAY = date(2027, 3, 29)
OPEN = f"/admin/holidays/1/{EASTER_MONDAY.isoformat()}/open"
KEEP = f"/admin/holidays/1/{EASTER_MONDAY.isoformat()}/keep"


@pytest.fixture
def admin(login_as: Callable[[str], FlaskClient], monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    freeze_clock(monkeypatch, NOW)
    return login_as("admin")


def _days_offered(app: Flask) -> set[date]:
    with app.app_context():
        follow_up = db.session.scalar(
            select(SessionType.id).where(SessionType.slug == "follow-up-acupuncture")
        )
        slots = find_slots(
            AvailabilityQuery(
                session_type_id=follow_up,
                location_id=1,
                date_from=date(2027, 3, 25),
                date_to=date(2027, 3, 30),
                practitioner_id=1,
            ),
            now=NOW,
        )
        return {s.starts_at.date() for s in slots}


def test_the_page_lists_each_locations_coming_holidays(admin: FlaskClient) -> None:
    html = admin.get("/admin/holidays").get_data(as_text=True)
    assert "<title>Public holidays" in html
    assert "Islington (GB-ENG)" in html
    assert "Dublin (IE)" in html
    cell = '<td class="govuk-table__cell">'
    assert html.count(f"{cell}Saint Patrick&#39;s Day") == 1  # Dublin only
    assert html.count(f"{cell}Good Friday") == 1  # Islington only
    assert html.count(f"{cell}Easter Monday") == 2
    assert (
        'Open<span class="govuk-visually-hidden"> Islington on Easter Monday, '
        "Monday 29 March 2027</span>" in html
    )


def test_opening_a_holiday_offers_it_and_keeping_it_closes_it_again(
    admin: FlaskClient, demo: Flask
) -> None:
    assert EASTER_MONDAY not in _days_offered(demo)
    token = csrf_from(admin.get("/admin/holidays").get_data(as_text=True))
    response = admin.post(OPEN, data={"csrf_token": token})
    assert response.status_code == 303
    html = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Islington is open on Easter Monday, Monday 29 March 2027" in html
    assert 'Close<span class="govuk-visually-hidden"> Islington on Easter Monday' in html
    assert EASTER_MONDAY in _days_offered(demo)
    assert admin.post(OPEN, data={"csrf_token": token}).status_code == 303  # twice: one row
    with demo.app_context():
        assert len(db.session.scalars(select(HolidayOpening)).all()) == 1
    assert admin.post(KEEP, data={"csrf_token": token}).status_code == 303
    assert EASTER_MONDAY not in _days_offered(demo)
    with demo.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("setup.holiday.%"))
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["setup.holiday.open", "setup.holiday.keep"]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/holidays/1/2027-03-30/open",  # not a holiday
        "/admin/holidays/2/2027-03-26/open",  # Good Friday is no Irish public holiday
        "/admin/holidays/1/2027-01-01/open",  # passed
        "/admin/holidays/999/2027-03-29/open",  # no such location
        "/admin/holidays/1/not-a-date/keep",
    ],
)
def test_anything_but_a_coming_holiday_of_that_location_is_not_found(
    admin: FlaskClient, path: str
) -> None:
    token = csrf_from(admin.get("/admin/holidays").get_data(as_text=True))
    assert admin.post(path, data={"csrf_token": token}).status_code == 404


def test_a_location_region_is_read_and_checked(admin: FlaskClient) -> None:
    page = admin.get("/admin/locations/2").get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(page),
        "name": "Dublin",
        "address": "4 Camden Row, Dublin 8",
        "phone": "01 555 0143",
        "country_code": "IE",
        "subdivision": "GB-ENG",
        "timezone": "Europe/Dublin",
        "slot_step_minutes": "",
        "is_active": "yes",
    }
    refused = admin.post("/admin/locations/2", data=form)
    assert refused.status_code == 422
    assert "Enter a region of IE for public holidays, or leave it empty" in refused.get_data(
        as_text=True
    )
    form["subdivision"] = ""
    assert admin.post("/admin/locations/2", data=form).status_code == 302
    form.update(country_code="GB", subdivision="sct", phone="0131 496 0000")
    assert admin.post("/admin/locations/2", data=form).status_code == 302
    html = admin.get("/admin/locations").get_data(as_text=True)
    assert "GB-SCT" in html
    assert 'href="tel:+441314960000">0131 496 0000</a>' in html
