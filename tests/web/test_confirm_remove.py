"""Destructive admin actions ask first, on a page of their own (issue 19).

GET /.../remove shows "Are you sure you want to remove this?" with Remove (POST) and Cancel
back to the list; only the POST removes. Demo ids: hours 1 is Mei Lin Chen's Monday 9am to
1pm at Islington; practitioner 1 is Mei, practitioner 2 Tom.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import WorkingHours
from tests.conftest import csrf_from

HOURS_REMOVE = "/admin/practitioners/1/hours/1/remove"


def _hours_left(app: Flask) -> bool:
    with app.app_context():
        return db.session.scalar(select(WorkingHours).where(WorkingHours.id == 1)) is not None


def test_removing_hours_asks_first_and_cancel_goes_back(
    demo: Flask, login_as: Callable[[str], FlaskClient]
) -> None:
    admin = login_as("admin")
    hours_page = admin.get("/admin/practitioners/1/hours").get_data(as_text=True)
    assert f'href="{HOURS_REMOVE}">Remove<span class="govuk-visually-hidden"> Monday' in hours_page
    page = admin.get(HOURS_REMOVE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<h1 class="govuk-heading-l">Are you sure you want to remove this?</h1>' in html
    assert "Hours: Monday 9am to 1pm at Islington" in html
    assert '<a class="govuk-link" href="/admin/practitioners/1/hours">Cancel</a>' in html
    assert _hours_left(demo)  # looking changes nothing
    assert admin.post(HOURS_REMOVE, data={}).status_code == 400  # no CSRF token: nothing
    assert _hours_left(demo)
    response = admin.post(HOURS_REMOVE, data={"csrf_token": csrf_from(html)})
    assert response.status_code == 302
    assert not _hours_left(demo)
    assert admin.get(HOURS_REMOVE).status_code == 404  # gone


def test_a_closure_and_time_off_ask_first_too(
    demo: Flask, login_as: Callable[[str], FlaskClient]
) -> None:
    admin = login_as("admin")
    token = csrf_from(admin.get("/admin/closures").get_data(as_text=True))
    form = {"kind": "closure", "location_id": "2", "on_date-day": "2", "on_date-month": "1"}
    admin.post("/admin/closures", data={**form, "on_date-year": "2099", "csrf_token": token})
    closures = admin.get("/admin/closures").get_data(as_text=True)
    remove = closures.split('href="/admin/closures/')[1].split('"')[0]
    html = admin.get(f"/admin/closures/{remove}").get_data(as_text=True)
    assert "Closure on Friday 2 January 2099, all day" in html
    assert '<a class="govuk-link" href="/admin/closures">Cancel</a>' in html


def test_another_practitioners_hours_are_not_found(
    login_as: Callable[[str], FlaskClient],
) -> None:
    tom = login_as("practitioner")  # Mei Lin Chen: hours 1 are hers, the others' are not
    assert tom.get("/practitioner/hours/1/remove").status_code == 200
    assert tom.get("/practitioner/hours/999/remove").status_code == 404
    assert tom.get("/practitioner/time-off/999/remove").status_code == 404
