"""Clinical notes in Chromium (issue 16): a practitioner writes a note, saves a draft, signs it
and adds an addendum with the keyboard alone; axe finds nothing at 1280 and 320 px on the note
pages and each error state.

Signed notes cannot be deleted (the database refuses), so each test's session sits on its own
day more than a year back, with its own patient, where no other browser test looks.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    AppointmentStatus,
    ClinicalNote,
    ConsentMethod,
    Modality,
    PatientProfile,
)
from booking.services.intake.consent import record_consent
from tests.browser.conftest import NARROW
from tests.browser.test_hours_pages import press_until, signed_in
from tests.browser.test_practitioner_calendar import _insert
from tests.browser.test_setup_pages import check_page

pytestmark = pytest.mark.browser

LONDON = ZoneInfo("Europe/London")
_DAYS = itertools.count(400)


def _session(app: Flask, given: str) -> tuple[int, date]:
    """A completed session of Mei's with a new patient who consented to needling."""
    day = datetime.now(UTC).astimezone(LONDON).date() - timedelta(days=next(_DAYS))
    start = datetime.combine(day, time(10), LONDON).astimezone(UTC)
    with app.app_context():
        patient = PatientProfile(
            given_name=given,
            family_name="Notetaker",
            email=f"{given.lower()}.notes@meridian.example",
        )
        db.session.add(patient)
        db.session.flush()
        record_consent(
            patient,
            Modality.needling,
            method=ConsentMethod.paper,
            actor=None,
            now=start - timedelta(days=1),
        )
        appointment = _insert(start, patient, f"notes-{given}")
        appointment.status = AppointmentStatus.completed
        db.session.commit()
        return appointment.id, day


def _focus(page: Any, element_id: str, limit: int = 150) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} not reached with Tab")


def _press(page: Any, button: str) -> None:
    press_until(page, button, limit=150)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_write_save_a_draft_sign_then_add_an_addendum_with_the_keyboard_alone(
    page_factory: Any, live_app: Flask
) -> None:
    appointment_id, day = _session(live_app, "Keyboard")
    page = signed_in(page_factory, "practitioner")
    page.goto(f"/practitioner/day?date={day.isoformat()}")
    press_until(
        page, f"Write note: 10am to 10:30am, {day:%A} {day.day} {day:%B %Y}: Keyboard Notetaker"
    )
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _focus(page, "chief_complaint")
    page.keyboard.type("Lower back pain, worse sitting")
    _focus(page, "points")
    page.keyboard.type("BL 23 bilateral")
    page.keyboard.press("Enter")
    page.keyboard.type("GV 4")
    _focus(page, "modalities")
    page.keyboard.press("Space")
    _focus(page, "needles_in")
    page.keyboard.type("14")
    _focus(page, "needles_out")
    page.keyboard.type("13")
    _press(page, "Save draft")
    assert "Draft saved" in page.locator(".govuk-notification-banner").inner_text()
    _press(page, "Save and sign")
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Needles removed (13) does not match needles inserted (14)" in summary
    _focus(page, "needles_out")
    page.keyboard.press("Control+A")
    page.keyboard.type("14")
    _press(page, "Save and sign")
    assert "Note signed" in page.locator(".govuk-notification-banner").inner_text()
    assert "BL 23 bilateral" in page.locator("main").inner_text()
    _focus(page, "text")
    page.keyboard.type("Patient rang: soreness gone next day.")
    _press(page, "Add addendum")
    assert "Addendum added" in page.locator(".govuk-notification-banner").inner_text()
    assert "Patient rang: soreness gone next day." in page.locator("#addenda + ol").inner_text()
    with live_app.app_context():
        note = db.session.scalar(
            select(ClinicalNote).where(ClinicalNote.appointment_id == appointment_id)
        )
        assert note is not None
        assert note.signed_at is not None
        assert (note.needles_in, note.needles_out) == (14, 14)
        assert [a.text for a in note.addenda] == ["Patient rang: soreness gone next day."]


def test_note_pages_and_error_states_have_no_axe_violations(
    page_factory: Any, live_app: Flask
) -> None:
    """One walk at 320 px; check_page checks each page at both widths."""
    width = NARROW
    appointment_id, _day = _session(live_app, f"Axe{width}")
    page = signed_in(page_factory, "practitioner", width)
    url = f"/practitioner/sessions/{appointment_id}/note"
    page.goto(url)
    check_page(page)
    page.locator("#pain_score").fill("11")
    page.locator("#points").fill("LI 21 L")
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    assert "Did you mean LI 20?" in page.locator(".govuk-error-summary").inner_text()
    check_page(page)
    page.locator("#pain_score").fill("4")
    page.locator("#points").fill("LI 4 L")
    page.locator("#modalities-moxibustion").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save and sign").click()
    assert "no current consent" in page.locator(".govuk-error-summary").inner_text()
    check_page(page)
    page.locator("#modalities-moxibustion").uncheck()
    page.locator("#needles_in").fill("6")
    page.locator("#needles_out").fill("6")
    with page.expect_navigation():
        page.get_by_role("button", name="Save and sign").click()
    check_page(page)  # the signed note
    with page.expect_navigation():
        page.get_by_role("button", name="Add addendum").click()
    assert "Enter the addendum" in page.locator(".govuk-error-summary").inner_text()
    check_page(page)
    page.get_by_role("link", name="Back").click()
    page.wait_for_load_state()
    check_page(page)  # the patient's notes
