"""Change your password in Chromium: axe on the form and its errors, keyboard alone.

A live server of its own (module scope): the keyboard journeys change demo passwords, which
must never reach the shared live app other browser tests sign in to.
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

pytestmark = pytest.mark.browser

PAGE = "/auth/change-password"
HOMES = {
    "patient": ("/patient/", "Your account"),
    "practitioner": ("/practitioner/", "Your day"),
    "receptionist": ("/reception/", "Day sheet"),
    "admin": ("/admin/", "Clinic set-up"),
}
NEW_PASSWORD = "lantern orchard pebble 47"


@pytest.fixture(scope="module")
def password_app(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return make_live_app(sqlite_template, tmp_path_factory, "password_live")


@pytest.fixture(scope="module")
def password_server(password_app: Flask) -> Iterator[LiveServer]:
    with serving(password_app) as server:
        yield server


@pytest.fixture
def open_page(browser: Any, password_server: LiveServer) -> Iterator[Any]:
    with opening_pages(browser, password_server, stay_on_site=True) as open_:
        yield open_


def _check_page(page: Any) -> None:
    """axe, the markup rules and no sideways scroll, at both widths."""

    def _at_this_width() -> None:
        assert axe_violations(page) == [], page.viewport_size
        assert what_axe_misses(page) == [], page.viewport_size
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    at_both_widths(page, _at_this_width)


def _sign_in(page: Any, role: str) -> None:
    page.goto("/auth/sign-in")
    page.get_by_label("Email address").fill(DEMO_EMAILS[role])
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{HOMES[role][0]}")


def _focused(page: Any, test: str) -> bool:
    script = f"(() => {{ const e = document.activeElement; return !!e && ({test}); }})()"
    return bool(page.evaluate(script))


def _tab_until(page: Any, test: str, limit: int = 40) -> int:
    for count in range(1, limit + 1):
        page.keyboard.press("Tab")
        if _focused(page, test):
            return count
    raise AssertionError(f"Tab never reached {test!r} on {page.url}")


# Only the patient and the practitioner sign in here: the keyboard tests change the
# receptionist's and the admin's passwords.
@pytest.mark.parametrize("role", ["patient", "practitioner"])
def test_U1_the_form_and_its_errors_have_no_axe_violations(  # noqa: N802 - ux.md §10 goal ID
    open_page: Any, role: str
) -> None:
    """One walk at 320 px; each state checked at both widths."""
    page = open_page(width=NARROW)
    _sign_in(page, role)
    page.goto(PAGE)
    assert page.locator("h1").inner_text() == "Change your password"
    assert page.title().startswith("Change your password – ")
    _check_page(page)

    # Nothing entered: an error on every field.
    page.get_by_role("button", name="Change password").click()
    page.wait_for_load_state()
    assert page.title().startswith("Error: Change your password")
    assert page.locator(".govuk-error-summary").is_visible()
    assert page.locator(".govuk-error-summary__list li").count() == 3
    # GOV.UK Frontend moves focus to the summary so it is read out first.
    assert _focused(page, "e.classList.contains('govuk-error-summary')")
    _check_page(page)

    # A wrong current password: refused by the service (422), one error.
    page.locator("#current_password").fill("not-my-password")
    page.locator("#new_password").fill(NEW_PASSWORD)
    page.locator("#confirm_password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_load_state()
    summary = page.locator(".govuk-error-summary__list")
    assert summary.inner_text().strip() == "Enter your current password correctly"
    _check_page(page)

    # New passwords that differ.
    page.locator("#current_password").fill(DEMO_PASSWORD)
    page.locator("#new_password").fill(NEW_PASSWORD)
    page.locator("#confirm_password").fill(NEW_PASSWORD + "!")
    page.get_by_role("button", name="Change password").click()
    page.wait_for_load_state()
    assert summary.inner_text().strip() == "The passwords do not match"
    _check_page(page)


@pytest.mark.parametrize(
    ("role", "js"),
    [("receptionist", True), ("admin", False)],
    ids=["js-on", "js-off"],
)
def test_U2_U3_change_password_with_the_keyboard_alone(  # noqa: N802 - ux.md §10 goal IDs
    open_page: Any, role: str, js: bool
) -> None:
    page = open_page(js=js)
    page.goto("/auth/sign-in")
    sign_in_with_keyboard(page, DEMO_EMAILS[role], DEMO_PASSWORD)
    home, heading = HOMES[role]
    page.wait_for_url(f"**{home}")

    link = "e.tagName === 'A' && e.textContent.trim() === 'Change your password'"
    _tab_until(page, link)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text() == "Change your password"

    # Each field in turn (with JavaScript, each "Show" button is a tab stop between them).
    answers = {
        "current_password": DEMO_PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    for index, (field_id, value) in enumerate(answers.items()):
        # Past the chrome to the first field; then at most a "Show" button between fields.
        _tab_until(page, f"e.id === {json.dumps(field_id)}", limit=40 if index == 0 else 2)
        page.keyboard.type(value)
    _tab_until(page, "e.tagName === 'BUTTON' && e.textContent.trim() === 'Change password'", 2)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    page.wait_for_url(f"**{home}")
    assert heading in page.locator("h1").inner_text()
    assert (
        "Your password has been changed" in page.locator(".govuk-notification-banner").inner_text()
    )
    if js:  # axe runs as page script
        _check_page(page)
