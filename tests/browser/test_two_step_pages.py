"""Staff two-step sign-in and the audit pages in Chromium, with the keyboard alone.

A live server of its own (module scope): these journeys enrol staff and make two-step
sign-in mandatory, which must never reach the shared live app other browser tests use.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from booking import clock
from booking.extensions import db
from booking.models import PatientProfile, User
from booking.services.platform.audit import record_event
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
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def mfa_app(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return make_live_app(sqlite_template, tmp_path_factory, "mfa_live")


@pytest.fixture(scope="module")
def mfa_server(mfa_app: Flask) -> Iterator[LiveServer]:
    with serving(mfa_app) as server:
        yield server


@pytest.fixture
def open_page(browser: Any, mfa_server: LiveServer) -> Iterator[Any]:
    with opening_pages(browser, mfa_server, stay_on_site=True) as open_:
        yield open_


def _check_at_each_width(page: Any) -> None:
    """0 axe violations (and none of what axe misses) at 1280 and 320 px, no sideways scroll."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert axe_violations(page) == [], (page.url, width)
        assert what_axe_misses(page) == [], (page.url, width)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
    page.set_viewport_size({"width": 1280, "height": 900})


def _focused(page: Any, test: str) -> bool:
    script = f"(() => {{ const e = document.activeElement; return !!e && ({test}); }})()"
    return bool(page.evaluate(script))


def _tab_to(page: Any, test: str, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(page, test):
            return
    raise AssertionError(f"Tab never reached {test!r} on {page.url}")


def _press_enter_on(page: Any, test: str) -> None:
    _tab_to(page, test)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _button(text: str) -> str:
    return f"e.tagName === 'BUTTON' && e.textContent.trim() === {json.dumps(text)}"


def _link(text: str) -> str:
    return f"e.tagName === 'A' && e.textContent.trim() === {json.dumps(text)}"


def _type_code(page: Any, code: str, button: str) -> None:
    _tab_to(page, "e.id === 'code'")
    page.keyboard.type(code)
    _press_enter_on(page, _button(button))


def _sign_out(page: Any) -> None:
    _press_enter_on(page, _button("Sign out"))
    page.wait_for_url("**/auth/sign-in")


def _sign_in(page: Any, role: str) -> None:
    page.goto("/auth/sign-in")
    sign_in_with_keyboard(page, DEMO_EMAILS[role], DEMO_PASSWORD)
    page.wait_for_load_state()


def test_a_receptionist_enrols_then_signs_in_with_a_code_and_a_recovery_code(
    open_page: Any,
) -> None:
    page = open_page()
    _sign_in(page, "receptionist")
    page.wait_for_url("**/reception/")
    _press_enter_on(page, _link("Set up two-step verification"))
    assert page.locator("h1").inner_text() == "Set up two-step verification"
    qr_title = page.locator("svg[role=img] title").text_content()
    assert qr_title == "QR code for your authenticator app"
    _check_at_each_width(page)
    secret = page.locator(".meridian-setup-key code").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)

    _type_code(page, "12", "Turn on two-step verification")  # too short: refused
    assert page.title().startswith("Error: Set up two-step verification")
    _check_at_each_width(page)
    _type_code(page, totp.now(), "Turn on two-step verification")
    assert page.locator("h1").inner_text() == "Two-step verification is on"
    codes = page.locator(".meridian-recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    _check_at_each_width(page)
    _press_enter_on(page, _link("Continue"))
    page.wait_for_url("**/reception/")
    _sign_out(page)

    # The password alone leads to the code; the next step's code (never the one just used).
    sign_in_with_keyboard(page, DEMO_EMAILS["receptionist"], DEMO_PASSWORD)
    page.wait_for_url("**/auth/two-step**")
    assert page.locator("h1").inner_text() == "Enter the code from your authenticator app"
    _check_at_each_width(page)
    _type_code(page, totp.at(time.time() + 30), "Continue")
    page.wait_for_url("**/reception/")
    _sign_out(page)

    # A recovery code signs in once.
    sign_in_with_keyboard(page, DEMO_EMAILS["receptionist"], DEMO_PASSWORD)
    page.wait_for_url("**/auth/two-step**")
    _type_code(page, codes[0], "Continue")
    page.wait_for_url("**/reception/")
    assert "You used a recovery code" in page.locator(".govuk-notification-banner").inner_text()
    # With two-step on, changing the password asks for a code as well.
    page.goto("/auth/change-password")
    assert page.locator("#code").is_visible()
    _check_at_each_width(page)
    _press_enter_on(page, _button("Change password"))
    assert page.title().startswith("Error: Change your password")
    assert page.locator('.govuk-error-summary a[href="#code"]').is_visible()
    _check_at_each_width(page)
    _sign_out(page)
    sign_in_with_keyboard(page, DEMO_EMAILS["receptionist"], DEMO_PASSWORD)
    page.wait_for_url("**/auth/two-step**")
    _type_code(page, codes[0], "Continue")
    assert page.title().startswith("Error: Enter your code")
    assert page.locator(".govuk-error-summary").is_visible()
    _check_at_each_width(page)


def _a_staff_read(app: Flask) -> int:
    """One practitioner's read of a demo patient's record; that patient's number."""
    with app.app_context():
        patient = db.session.scalars(select(PatientProfile).order_by(PatientProfile.id)).first()
        reader = db.session.scalar(select(User).where(User.email == DEMO_EMAILS["practitioner"]))
        assert patient is not None
        record_event("note.read", actor=reader, now=clock.utcnow(), patient_id=patient.id)
        db.session.commit()
        return patient.id


def test_with_two_step_mandatory_staff_without_it_reach_only_enrolment(
    open_page: Any, mfa_app: Flask
) -> None:
    patient_id = _a_staff_read(mfa_app)
    page = open_page()
    _sign_in(page, "admin")
    page.wait_for_url("**/admin/")
    _press_enter_on(page, _link("Audit trail"))
    assert page.locator("h1").inner_text() == "Audit trail"
    _check_at_each_width(page)
    _tab_to(page, "e.id === 'audit-from'")
    page.keyboard.type("2027-02-30")
    _press_enter_on(page, _button("Show rows"))
    assert page.title().startswith("Error: Audit trail")
    _check_at_each_width(page)
    page.goto(f"/admin/audit?patient={patient_id}")  # with its reads per member of staff
    assert page.locator("#staff-reads + div table tbody tr").count() >= 1
    _check_at_each_width(page)
    page.goto("/admin/")
    _press_enter_on(page, _link("Security"))
    assert page.locator("h1").inner_text() == "Security"
    _check_at_each_width(page)

    # Turn it on with the keyboard: the admin, with no second factor, is led to enrol.
    _tab_to(page, "e.id === 'mfa_required'")
    page.keyboard.press("Space")
    _press_enter_on(page, _button("Save security settings"))
    page.wait_for_url("**/auth/two-step/set-up**")
    for path in ("/admin/", "/admin/audit", "/admin/security", "/auth/change-password"):
        page.goto(path)
        assert "/auth/two-step" in page.url or "/auth/sign-in" in page.url, path
    _check_at_each_width(page)

    # Another member of staff, signing in afresh, gets only the set-up page too.
    other = open_page()
    _sign_in(other, "practitioner")
    other.wait_for_url("**/auth/two-step/set-up**")
    assert "This clinic asks every member of staff" in other.locator("main").inner_text()
    other.goto("/practitioner/")
    assert "/auth/two-step" in other.url
    secret = other.locator(".meridian-setup-key code").inner_text().replace(" ", "")
    _type_code(other, pyotp.TOTP(secret).now(), "Turn on two-step verification")
    _press_enter_on(other, _link("Continue"))
    other.wait_for_url("**/practitioner/**")
