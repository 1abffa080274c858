"""The front desk in Chromium with the keyboard alone, JavaScript on and off (issue 15).

A receptionist checks a patient in and undoes it, finds a returning patient by a misspelt
name and books a follow-up on their behalf; a new patient phones and is created and booked.
With JavaScript on, every new page and error state passes axe at 1280 and 320 px.
A live server of its own (module scope) with the clock frozen on a working Wednesday.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, Location, Practitioner, SessionType
from tests.browser.conftest import (
    WIDTHS,
    LiveServer,
    axe_violations,
    make_live_app,
    opening_pages,
    serving,
    sign_in_with_keyboard,
    what_axe_misses,
)
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD, FrozenClock
from tests.factories import make_appointment, make_patient

pytestmark = pytest.mark.browser
NOW = datetime(2027, 3, 3, 8, 30, tzinfo=UTC)  # Wednesday: Mei Lin works at Islington


@pytest.fixture(scope="module")
def desk_app(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("booking.clock.utcnow", FrozenClock(NOW))
        yield make_live_app(sqlite_template, tmp_path_factory, "desk_live")


@pytest.fixture(scope="module")
def desk_server(desk_app: Flask) -> Iterator[LiveServer]:
    with serving(desk_app) as server:
        yield server


@pytest.fixture
def open_page(browser: Any, desk_server: LiveServer) -> Iterator[Any]:
    with opening_pages(browser, desk_server, stay_on_site=True) as open_:
        yield open_


def _setup(app: Flask, tag: str) -> tuple[str, str]:
    """A returning patient (a session behind) and one booked at 10am today: their names."""
    with app.app_context():
        mei = db.session.scalar(
            select(Practitioner).where(Practitioner.display_name == "Mei Lin Chen")
        )
        islington = db.session.scalar(select(Location).where(Location.slug == "islington"))
        follow_up = db.session.scalar(
            select(SessionType).where(SessionType.slug == "follow-up-acupuncture")
        )
        returning = make_patient(given_name="Rowena", family_name=f"Fairweather{tag}")
        make_appointment(
            starts_at=datetime(2027, 2, 24, 10 if tag == "On" else 11, 0, tzinfo=UTC),
            practitioner=mei,
            location=islington,
            session_type=follow_up,
            patient=returning,
            status="completed",
        )
        arriving = make_patient(given_name="Arlo", family_name=f"Arrives{tag}")
        make_appointment(
            starts_at=datetime(2027, 3, 3, 10 if tag == "On" else 11, 0, tzinfo=UTC),
            practitioner=mei,
            location=islington,
            session_type=follow_up,
            patient=arriving,
        )
        db.session.commit()
        return returning.full_name, arriving.full_name


ACTIVE = r"""() => {
  const e = document.activeElement;
  return e ? {tag: e.tagName, name: e.name || '', type: e.type || '',
              text: (e.innerText || e.value || '').replace(/\s+/g, ' ').trim()} : null;
}"""


def tab_to(page: Any, matches: Any, limit: int = 120) -> dict[str, Any]:
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        active = page.evaluate(ACTIVE)
        if active and matches(active):
            return active
        seen.append(active)
    raise AssertionError(f"Tab never reached the element on {page.url}: {seen[:40]}")


def enter(page: Any) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def tab_enter(page: Any, matches: Any) -> None:
    tab_to(page, matches)
    enter(page)


def button(text: str) -> Any:
    return lambda e: e["tag"] in ("BUTTON", "INPUT") and e["text"].startswith(text)


def link(text: str) -> Any:
    return lambda e: e["tag"] == "A" and e["text"].startswith(text)


def named(name: str) -> Any:
    return lambda e: e["name"] == name


def type_into(page: Any, name: str, text: str) -> None:
    tab_to(page, named(name))
    page.keyboard.type(text)


def check(page: Any, label: str, js: bool) -> None:
    """axe (JavaScript on only: it runs in the page) at both widths, and no sideways scroll."""
    if not js:
        return
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert axe_violations(page) == [], (label, width)
        assert what_axe_misses(page) == [], (label, width)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
            label,
            width,
        )
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    page.evaluate("window.scrollTo(0, 0)")
    page.keyboard.press("Escape")


A4_LANDSCAPE_PX = 1047  # 297 mm less 10 mm margins each side, at 96 px per inch


def printed_on_a4(page: Any) -> None:
    """In print, the day sheet fits A4 landscape with every column of data (not the buttons)."""
    page.emulate_media(media="print")
    page.set_viewport_size({"width": A4_LANDSCAPE_PX, "height": 900})
    headers = page.locator(".meridian-reflow thead th")
    shown = [h.inner_text() for h in headers.all() if h.is_visible()]
    assert shown == [
        "Time",
        "Patient",
        "Practitioner",
        "Session",
        "Room",
        "Arrival",
        "Flags",
        "Health questions",
    ]
    width = page.evaluate("document.querySelector('.meridian-reflow').scrollWidth")
    assert width <= A4_LANDSCAPE_PX
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def book_on_behalf(page: Any, js: bool, day: str) -> None:
    """From a patient's record: a follow-up with Mei Lin at Islington, the first free time."""
    tab_enter(page, link("Book a session"))
    assert page.locator("h1").inner_text().startswith("Book a session for")
    check(page, "book", js)
    tab_enter(page, button("Show free times"))  # no day yet: the error state
    assert "Enter a day" in page.locator(".govuk-error-summary").inner_text()
    check(page, "book error", js)
    tab_to(page, named("session_type"))
    page.keyboard.type("Follow")
    tab_to(page, named("location"))
    page.keyboard.type("Islington")
    tab_to(page, named("practitioner"))
    page.keyboard.type("Mei")
    tab_to(page, named("day"))
    page.keyboard.press("Control+A")
    page.keyboard.type(day)
    tab_enter(page, button("Show free times"))
    assert "Free times on" in page.content()
    check(page, "times", js)
    tab_to(page, lambda e: e["type"] == "radio")
    page.keyboard.press("Space")
    tab_enter(page, button("Hold this time"))
    assert page.locator("h1").inner_text().startswith("Check and book for")
    check(page, "confirm", js)
    tab_enter(page, button("Book session"))
    assert "Session booked:" in page.content()


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_desk_journeys_with_the_keyboard_alone(desk_app: Flask, open_page: Any, js: bool) -> None:
    tag = "On" if js else "Off"
    newcomer = "Nadia Newcomb" if js else "Quentin Quarrington"  # unlike each other's name
    returning, arriving = _setup(desk_app, tag)
    page = open_page(js=js)
    page.goto("/auth/sign-in")
    with page.expect_navigation():
        sign_in_with_keyboard(page, DEMO_EMAILS["receptionist"], DEMO_PASSWORD)
    assert page.url.endswith("/reception/")
    assert arriving in page.content()
    check(page, "day sheet", js)
    if js:
        printed_on_a4(page)

    # Check in the arriving patient, then undo it.
    tab_enter(page, button(f"Check in {arriving}"))
    assert f"{arriving} checked in" in page.content()
    tab_enter(page, button(f"Undo check-in of {arriving}"))
    assert f"Check-in undone: {arriving}" in page.content()

    # A chain's long day comes a few locations a page; the pages are links like any other.
    desk_app.config["RECEPTION_SHEET_PAGE_SIZE"] = 0  # each place with sessions on its own
    try:
        page.goto("/reception/")
        assert page.title().startswith("Day sheet (page 1 of")
        check(page, "day sheet, paged", js)
        tab_enter(page, link("Next"))
        assert page.title().startswith("Day sheet (page 2 of")
        check(page, "day sheet, page 2", js)
    finally:
        desk_app.config["RECEPTION_SHEET_PAGE_SIZE"] = 150
    page.goto("/reception/")

    # Find the returning patient by a misspelt name and book a follow-up for them.
    tab_enter(page, link("Find or add a patient"))
    check(page, "find", js)
    type_into(page, "q", f"rowena fairwether{tag.lower()}")
    enter(page)
    check(page, "found", js)
    tab_enter(page, link(returning))
    assert page.locator("h1").inner_text() == returning
    check(page, "record", js)
    book_on_behalf(page, js, "10/03/2027")
    check(page, "record after booking", js)

    # A new patient phones: created, then booked.
    page.goto("/reception/patients")
    type_into(page, "q", newcomer)
    enter(page)
    assert "No patients found" in page.content()
    check(page, "nothing found", js)
    tab_enter(page, link("Add a new patient"))
    check(page, "new patient", js)
    tab_enter(page, button("Create patient"))
    assert "Enter their first name" in page.locator(".govuk-error-summary").inner_text()
    check(page, "new patient errors", js)
    for name, value in (
        ("given_name", newcomer.split()[0]),
        ("family_name", newcomer.split()[1]),
        ("date_of_birth-day", "14"),
        ("date_of_birth-month", "2"),
        ("date_of_birth-year", "1991"),
        ("email", f"newcomer.{tag.lower()}@example.org"),
        ("phone", "07700 900 461"),
    ):
        tab_to(page, named(name))
        page.keyboard.press("Control+A")
        page.keyboard.type(value)
    tab_to(page, lambda e: e["name"] == "contact_preference")
    page.keyboard.press("Space")
    tab_enter(page, button("Create patient"))
    assert "Patient created" in page.content()
    assert newcomer in page.content()
    book_on_behalf(page, js, "11/03/2027")

    with desk_app.app_context():
        booked = list(
            db.session.scalars(
                select(Appointment).where(
                    Appointment.status == AppointmentStatus.booked,
                    Appointment.source == "staff",
                    Appointment.starts_at >= datetime(2027, 3, 10, tzinfo=UTC),
                )
            )
        )
        names = sorted(a.patient.full_name for a in booked)
    assert returning in names
    assert newcomer in names
    assert date(2027, 3, 10) in {a.starts_at.date() for a in booked}
