"""Intake in Chromium: keyboard alone with JavaScript on and off; axe on every page and error.

A live server of its own (module scope), so the appointments made here never touch the
shared live app other browser tests book against.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.browser.conftest import (
    NARROW,
    WIDTHS,
    LiveServer,
    at_both_widths,
    axe_violations,
    make_live_app,
    opening_pages,
    serving,
    sign_in_with_keyboard,
    what_axe_misses,
)
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD
from tests.web.intake_helpers import CALM_ANSWERS, PAGE_ORDER, book_first_visit, new_guest_patient

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def intake_app(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return make_live_app(sqlite_template, tmp_path_factory, "intake_live")


@pytest.fixture(scope="module")
def intake_server(intake_app: Flask) -> Iterator[LiveServer]:
    with serving(intake_app) as server:
        yield server


@pytest.fixture
def open_page(browser: Any, intake_server: LiveServer) -> Iterator[Any]:
    with opening_pages(browser, intake_server, stay_on_site=True) as open_:
        yield open_


ACTIVE = """() => {
  const e = document.activeElement;
  return e ? {tag: e.tagName, type: e.type || '', name: e.name || '', value: e.value || '',
              checked: !!e.checked, text: (e.textContent || '').trim()} : null;
}"""


def keyboard_answer(page: Any, answers: dict[str, Any]) -> None:
    """Answer the page's questions and press Continue with Tab, Space, arrows and typing."""
    done: set[str] = set()
    for _ in range(150):
        page.keyboard.press("Tab")
        e = page.evaluate(ACTIVE)
        if e is None:
            continue
        name, kind = e["name"], e["type"]
        if name == "submit" or (e["tag"] == "A" and e["text"].startswith("Continue with")):
            with page.expect_navigation():
                page.keyboard.press("Enter")
            return
        wanted = answers.get(name)
        if kind == "radio" and name not in done and wanted is not None:
            page.keyboard.press("Space")  # checks the focused (first) radio
            for _step in range(12):
                if page.evaluate(ACTIVE)["value"] == wanted:
                    break
                page.keyboard.press("ArrowDown")  # moves and checks the next radio
            assert page.evaluate(ACTIVE)["value"] == wanted
            done.add(name)
        elif kind == "checkbox" and wanted is not None:
            if (e["value"] in wanted) != e["checked"]:
                page.keyboard.press("Space")
        elif kind in ("text", "tel", "textarea") and wanted and name not in done:
            page.keyboard.type(wanted)
            done.add(name)
    raise AssertionError(f"never reached Continue on {page.url}")


def tab_to_and_enter(page: Any, test: str) -> None:
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const e = document.activeElement; return !!e && ({test}); }}"):
            with page.expect_navigation():
                page.keyboard.press("Enter")
            return
    raise AssertionError(f"Tab never reached {test} on {page.url}")


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_U2_U3_first_visit_intake_with_the_keyboard_alone(  # noqa: N802 - ux.md §10 goal IDs
    intake_app: Flask, open_page: Any, js: bool
) -> None:
    booked = book_first_visit(intake_app, new_guest_patient(intake_app))
    page = open_page(js=js)
    page.goto(booked.start_url)
    assert page.locator("h1").inner_text() == "Answer the health questions"
    tab_to_and_enter(page, "e.name === 'submit'")
    for page_key in PAGE_ORDER:
        assert page.url.endswith(f"/{page_key}"), page.url
        answers = dict(CALM_ANSWERS[page_key])
        if page_key == "warning_signs":
            answers["rf_fever"] = "yes"
        keyboard_answer(page, answers)
        if page_key == "warning_signs":
            assert page.locator("h1").inner_text() == "Get medical advice today"
            keyboard_answer(page, {})
    assert page.locator("h1").inner_text() == "Check your answers before sending them"
    tab_to_and_enter(page, "e.name === 'submit'")
    assert page.locator("h1").inner_text() == "Answers sent"
    assert "we will call you" in page.content()


def flagged_today(app: Flask, width: int) -> None:
    """A session today whose patient has flags, so the day views show their Flags column."""
    from datetime import UTC, datetime, timedelta

    from booking.domain.scheduling.dst import day_bounds, local_today
    from booking.extensions import db
    from booking.models import Appointment
    from booking.services.clinic.settings import clinic_zone
    from booking.services.intake import answers as answers_service

    with app.app_context():
        zone = clinic_zone()
        start, _ = day_bounds(local_today(zone, now=datetime.now(UTC)), zone)
    hour = 1 if width == WIDTHS[0] else 3
    booked = book_first_visit(
        app, new_guest_patient(app, "Flag", str(width)), starts_at=start + timedelta(hours=hour)
    )
    with app.app_context():
        now = datetime.now(UTC)
        intake = answers_service.start_intake(
            db.session.get(Appointment, booked.appointment_id), now=now
        )
        answers_service.save_page(
            intake, "implants", {"implants": "yes"}, complete=True, actor=None, now=now
        )
        db.session.commit()


def sign_in(page: Any, email: str) -> None:
    page.goto("/auth/sign-in")
    with page.expect_navigation():
        sign_in_with_keyboard(page, email, DEMO_PASSWORD)
    assert "/auth/sign-in" not in page.url


def check(page: Any, label: str) -> None:
    """axe, the markup rules and no sideways scroll, at both widths."""

    def _at_this_width() -> None:
        where = (label, page.viewport_size["width"])
        assert axe_violations(page) == [], where
        assert what_axe_misses(page) == [], where
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), where

    at_both_widths(page, _at_this_width)


def fill(page: Any, answers: dict[str, Any]) -> None:
    for name, value in answers.items():
        if isinstance(value, list):
            for item in value:
                page.check(f"input[name={json.dumps(name)}][value={json.dumps(item)}]")
        elif page.locator(f"input[type=radio][name={json.dumps(name)}]").count():
            page.check(f"input[name={json.dumps(name)}][value={json.dumps(value)}]")
        elif value:
            page.fill(f"[name={json.dumps(name)}]", value)


def continue_(page: Any, text: str = "Continue") -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=text, exact=True).click()


def test_U1_every_intake_page_and_error_state_passes_axe(  # noqa: N802 - ux.md §10 goal IDs
    intake_app: Flask, open_page: Any
) -> None:
    """One walk at 320 px; each page and error state checked at both widths."""
    width = NARROW
    name = f"Axe{width}"
    booked = book_first_visit(intake_app, new_guest_patient(intake_app, "Jo", name))
    page = open_page(width=width)
    page.goto(booked.start_url)
    check(page, "start")
    continue_(page, "Start now")
    for page_key in PAGE_ORDER:
        check(page, page_key)
        if page_key != "gp":  # all optional: no error state
            continue_(page)
            assert page.title().startswith("Error: "), page_key
            check(page, f"{page_key} error")
        answers = dict(CALM_ANSWERS[page_key])
        if page_key == "warning_signs":
            answers["rf_weight_loss"] = "yes"
        fill(page, answers)
        if page_key == "emergency_contact":
            with page.expect_navigation():
                page.get_by_role("button", name="Save and come back later").click()
            check(page, "saved")
            page.get_by_role("link", name="Continue your answers now").click()
            page.wait_for_load_state()
            fill(page, answers)
        continue_(page)
        if page_key == "warning_signs":
            check(page, "urgent")
            page.get_by_role("link", name="Continue with the questions").click()
            page.wait_for_load_state()
    check(page, "check answers")
    continue_(page, "Send your answers")
    check(page, "sent")
    page.get_by_role("link", name="See your answers").click()
    page.wait_for_load_state()
    check(page, "answers")

    flagged_today(intake_app, width)
    staff = open_page(width=width)
    sign_in(staff, DEMO_EMAILS["receptionist"])
    staff.goto("/reception/")
    assert "No electro-acupuncture (contraindication)" in staff.content()
    check(staff, "day sheet")
    staff.goto("/reception/intake")
    check(staff, "queue")
    staff.get_by_role("link", name=f"Jo {name}").first.click()
    staff.wait_for_load_state()
    check(staff, "intake read")
    continue_(staff, "Mark as reviewed")
    check(staff, "review error")
    staff.get_by_role("link", name=f"Health record of Jo {name}").click()
    staff.wait_for_load_state()
    check(staff, "record")
    staff.get_by_role("link", name="Record consent given on paper").click()
    staff.wait_for_load_state()
    check(staff, "consent")
    continue_(staff, "Record consent")
    check(staff, "consent error")

    mei = open_page(width=width)
    sign_in(mei, DEMO_EMAILS["practitioner"])
    mei.goto("/practitioner/")
    assert "No electro-acupuncture (contraindication)" in mei.content()
    check(mei, "day view")

    patient = open_page(width=width)
    sign_in(patient, DEMO_EMAILS["patient"])
    patient.goto("/intake/")
    check(patient, "patient index")


def claimed_elsewhere(app: Flask, name: str, *, born: Any, sent: bool = False) -> str:
    """A guest link whose intake another browser already holds; returns the link's path."""
    from datetime import UTC, datetime

    from booking.extensions import db
    from booking.models import Appointment, IntakeStatus, PatientProfile
    from booking.services.intake import answers as answers_service

    patient_id = new_guest_patient(app, "Jo", name)
    booked = book_first_visit(app, patient_id)
    with app.app_context():
        now = datetime.now(UTC)
        db.session.get(PatientProfile, patient_id).date_of_birth = born
        appointment = db.session.get(Appointment, booked.appointment_id)
        intake = answers_service.start_intake(appointment, now=now, guest_key_hash="f" * 64)
        if sent:
            intake.status, intake.submitted_at = IntakeStatus.submitted, now
        db.session.commit()
    return booked.start_url


def give_date_of_birth(page: Any, day: str, month: str, year: str) -> None:
    page.fill("#dob_day", day)
    page.fill("#dob_month", month)
    page.fill("#dob_year", year)
    continue_(page)


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_new_device_proof_with_the_keyboard_alone(
    intake_app: Flask, open_page: Any, js: bool
) -> None:
    """A second device gives the date of birth with Tab and typing, then carries on answering."""
    from datetime import date

    page = open_page(js=js)
    page.goto(claimed_elsewhere(intake_app, f"Keys{js}", born=date(1980, 1, 3)))
    assert page.locator("h1").inner_text() == "What is your date of birth?"
    keyboard_answer(page, {"dob_day": "3", "dob_month": "1", "dob_year": "1980"})
    assert page.url.endswith("/concern"), page.url


def test_U1_new_device_proof_pages_pass_axe(  # noqa: N802 - ux.md §10 goal IDs
    intake_app: Flask, open_page: Any
) -> None:
    """Each page at 320 px, checked at both widths."""
    width = NARROW
    from datetime import date

    born = date(1980, 1, 3)
    page = open_page(width=width)
    page.goto(claimed_elsewhere(intake_app, f"Draft{width}", born=born))
    assert page.locator("h1").inner_text() == "What is your date of birth?"
    check(page, "proof")
    continue_(page)
    assert page.title().startswith("Error: ")
    check(page, "proof error")
    give_date_of_birth(page, "1", "3", "1980")
    assert "does not match" in page.content()
    check(page, "proof no match")
    give_date_of_birth(page, "3", "1", "1980")
    assert page.url.endswith("/concern"), page.url

    sent = open_page(width=width)
    sent.goto(claimed_elsewhere(intake_app, f"Sent{width}", born=born, sent=True))
    give_date_of_birth(sent, "3", "1", "1980")
    assert sent.locator("h1").inner_text() == "We have your answers"
    check(sent, "received")

    locked = open_page(width=width)
    locked.goto(claimed_elsewhere(intake_app, f"Locked{width}", born=born))
    for day in ("1", "2", "4", "5", "6"):
        give_date_of_birth(locked, day, "1", "1980")
    assert locked.locator("h1").inner_text() == "You cannot use this link on this device for now"
    check(locked, "locked")

    unknown = open_page(width=width)
    unknown.goto(claimed_elsewhere(intake_app, f"Unknown{width}", born=None))
    assert unknown.locator("h1").inner_text() == "We cannot check who you are on this device"
    check(unknown, "no date of birth")
