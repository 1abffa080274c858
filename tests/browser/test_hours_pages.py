"""Practitioners, weekly hours, time off and closures in Chromium: axe at 1280 and 320 px on
load, in error and with sessions listed outside hours; adding hours with the keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import delete, select

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, PatientProfile, ScheduleException
from tests.browser.conftest import NARROW
from tests.browser.test_setup_pages import check_page, signed_in_admin, tab_to
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD

pytestmark = pytest.mark.browser

ADMIN_PAGES = [
    "/admin/practitioners",
    "/admin/practitioners/new",
    "/admin/practitioners/1",
    "/admin/practitioners/4/hours",
    "/admin/practitioners/1/time-off",
    "/admin/closures",
]
OWN_PAGES = ["/practitioner/", "/practitioner/hours", "/practitioner/time-off"]
PAST = {"on_date-day": "1", "on_date-month": "1", "on_date-year": "2020"}
# A page, who signs in, and the answers that put it in error ({} submits the empty form).
ERROR_STATES = [
    ("/admin/practitioners/new", "admin", {}),
    ("/admin/practitioners/new", "admin", {"email": "mei.chen@meridian.example"}),  # 422
    ("/admin/practitioners/1", "admin", {"display_name": ""}),
    ("/admin/practitioners/1/hours", "admin", {}),
    # Mei's Monday 9am to 1pm: refused by the service, 422.
    (
        "/admin/practitioners/1/hours",
        "admin",
        {"#location_id-2": "check", "#weekday": "check", "start_time": "12:00", "end_time": "3pm"},
    ),
    ("/admin/practitioners/1/time-off", "admin", {}),
    ("/admin/closures", "admin", {}),
    ("/admin/closures", "admin", {"#kind": "check", "#location_id": "check", **PAST}),  # 422
    ("/practitioner/hours", "practitioner", {"start_time": "half nine"}),
    ("/practitioner/time-off", "practitioner", {"#kind": "check", **PAST}),  # 422
]


def signed_in(page_factory: Any, role: str, width: int = 1280, js: bool = True) -> Any:
    if role == "admin":
        return signed_in_admin(page_factory, width, js)
    page = page_factory(width=width, js=js)
    page.goto("/auth/sign-in")
    page.get_by_label("Email address").fill(DEMO_EMAILS[role])
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/practitioner/")
    return page


@pytest.fixture
def mondays_session(live_app: Flask) -> Iterator[datetime]:
    """A session of Mei's at 10am on a Monday about eight weeks ahead, with her whole day off:
    so every page lists it as outside working hours. Both are removed afterwards."""
    zone = ZoneInfo("Europe/London")
    today = datetime.now(UTC).astimezone(zone).date()
    monday = today + timedelta(days=56 - today.weekday())
    starts_at = datetime.combine(monday, time(10), zone).astimezone(UTC)
    with live_app.app_context():
        patient = db.session.scalar(select(PatientProfile).order_by(PatientProfile.id))
        appointment = Appointment(
            status=AppointmentStatus.booked,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=30),
            busy_from=starts_at,
            busy_until=starts_at + timedelta(minutes=35),
            practitioner_id=1,
            location_id=1,
            patient_id=patient.id,
            session_type_id=2,
            ics_uid=f"browser-outside-{monday}@meridian.example",
        )
        off = ScheduleException(kind="time_off", practitioner_id=1, on_date=monday, reason="")
        db.session.add_all([appointment, off])
        db.session.commit()
        ids = (appointment.id, off.id)
    yield starts_at
    with live_app.app_context():
        db.session.execute(delete(Appointment).where(Appointment.id == ids[0]))
        db.session.execute(delete(ScheduleException).where(ScheduleException.id == ids[1]))
        db.session.commit()


def test_admin_pages_have_no_axe_violations(page_factory: Any) -> None:
    page = signed_in(page_factory, "admin", NARROW)
    for path in ADMIN_PAGES:
        page.goto(path)
        check_page(page)


def test_own_pages_have_no_axe_violations(page_factory: Any) -> None:
    page = signed_in(page_factory, "practitioner", NARROW)
    for path in OWN_PAGES:
        page.goto(path)
        check_page(page)


def test_sessions_outside_hours_have_no_axe_violations(
    page_factory: Any, mondays_session: datetime
) -> None:
    for role, paths in (
        ("admin", ["/admin/practitioners/1/hours", "/admin/practitioners/1/time-off"]),
        ("practitioner", ["/practitioner/hours", "/practitioner/time-off"]),
    ):
        page = signed_in(page_factory, role, NARROW)
        for path in paths:
            page.goto(path)
            heading = page.locator("#outside-hours")
            assert heading.inner_text() == "This session is now outside working hours"
            assert "Alex Morgan" in page.locator("table", has=page.locator("th")).first.inner_text()
            check_page(page)


@pytest.mark.parametrize(("path", "role", "answers"), ERROR_STATES)
def test_error_states_have_no_axe_violations(
    page_factory: Any, path: str, role: str, answers: dict[str, str]
) -> None:
    page = signed_in(page_factory, role, NARROW)
    page.goto(path)
    for field, value in answers.items():
        if value == "check":
            page.locator(f"main {field}").check()
        else:
            page.locator(f"main #{field}").fill(value)
    page.locator("main #submit").click()
    page.wait_for_load_state()
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    check_page(page)
    first = summary.locator("a").first
    target = first.get_attribute("href")
    first.click()
    assert page.evaluate("document.activeElement.id") == target[1:]


def press_until(page: Any, text: str, limit: int = 120) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == text:
            return
    raise AssertionError(f"{text!r} not reached with Tab")


@pytest.mark.parametrize(
    ("js", "start", "end", "shown"),
    [(True, "9am", "12:30", "9am to 12:30pm"), (False, "14:00", "4pm", "2pm to 4pm")],
    ids=["js-on", "js-off"],
)
def test_add_and_remove_hours_with_the_keyboard_alone(
    page_factory: Any, js: bool, start: str, end: str, shown: str
) -> None:
    page = signed_in(page_factory, "admin", js=js)
    page.goto("/admin/practitioners")
    press_until(page, "Working hours of Aoife Byrne")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/practitioners/3/hours")
    tab_to(page, "location_id")  # the first radio, Dublin: focused, not chosen
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # into the day radios, on Monday
    page.keyboard.press("ArrowUp")  # wraps round to Sunday and chooses it
    tab_to(page, "start_time")
    page.keyboard.type(start)
    page.keyboard.press("Tab")
    page.keyboard.type(end)
    press_until(page, "Add hours", limit=10)
    with page.expect_navigation():  # the same URL again: wait for the new page itself
        page.keyboard.press("Enter")
    banner = page.locator(".govuk-notification-banner").inner_text()
    assert f"Hours added: Sunday {shown} at Dublin" in banner
    row = page.locator("tr", has_text=shown)
    assert row.count() == 1
    assert "Sunday" in row.inner_text()
    # And take them away again, with the link that names them: its page asks first (issue 19).
    press_until(page, f"Remove Sunday {shown} at Dublin")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text() == "Are you sure you want to remove this?"
    assert f"Sunday {shown} at Dublin" in page.locator(".govuk-inset-text").inner_text()
    press_until(page, "Remove", limit=10)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert (
        f"Hours removed: Sunday {shown} at Dublin"
        in page.locator(".govuk-notification-banner").inner_text()
    )
    assert page.locator("tr", has_text=shown).count() == 0
