"""Sign-in and each role's home: axe at 1280 and 320 px, keyboard only, JavaScript off."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import (
    NARROW,
    at_both_widths,
    axe_violations,
    sign_in_with_keyboard,
    what_axe_misses,
)
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD

pytestmark = pytest.mark.browser

HOMES = {
    "patient": ("/patient/", "Your account"),
    "practitioner": ("/practitioner/", "Your day"),
    "receptionist": ("/reception/", "Day sheet"),
    "admin": ("/admin/", "Clinic set-up"),
}
PUBLIC_PAGES = [
    "/",
    "/auth/sign-in",
    "/help",
    "/accessibility",
    "/privacy",
    "/cookies",
    "/articles/",
    "/no-such-page",
]


def _check_page(page: Any) -> None:
    """axe, the markup rules and no sideways scroll, at both widths."""

    def _at_this_width() -> None:
        assert axe_violations(page) == [], page.viewport_size
        assert what_axe_misses(page) == [], page.viewport_size
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    at_both_widths(page, _at_this_width)
    assert page.off_site == []


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_have_no_axe_violations(page_factory: Any, path: str) -> None:
    page = page_factory(width=NARROW)
    page.goto(path)
    _check_page(page)


def test_sign_in_error_state_has_no_axe_violations(page_factory: Any) -> None:
    page = page_factory(width=NARROW)
    page.goto("/auth/sign-in")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.title().startswith("Error: ")
    assert page.locator(".govuk-error-summary").is_visible()
    _check_page(page)


@pytest.mark.parametrize("role", list(HOMES))
def test_role_home_pages_have_no_axe_violations(page_factory: Any, role: str) -> None:
    page = page_factory(width=NARROW)
    page.goto("/auth/sign-in")
    page.get_by_label("Email address").fill(DEMO_EMAILS[role])
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    path, heading = HOMES[role]
    page.wait_for_url(f"**{path}")
    assert heading in page.locator("h1").inner_text()
    _check_page(page)


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
@pytest.mark.parametrize("role", list(HOMES))
def test_sign_in_and_out_with_the_keyboard_alone(page_factory: Any, role: str, js: bool) -> None:
    page = page_factory(js=js)
    page.goto("/auth/sign-in")
    sign_in_with_keyboard(page, DEMO_EMAILS[role], DEMO_PASSWORD)
    path, heading = HOMES[role]
    page.wait_for_url(f"**{path}")
    assert heading in page.locator("h1").inner_text()
    # Sign out with the keyboard too: Tab to the "Sign out" button and press Enter.
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Sign out":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/auth/sign-in")
    assert "You have signed out" in page.content()
    page.goto(path)
    assert "/auth/sign-in" in page.url


def test_skip_link_is_the_first_tab_stop(page_factory: Any) -> None:
    page = page_factory()
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"


def test_no_gds_transport_font_or_crown_is_served(page_factory: Any, live_server: Any) -> None:
    page = page_factory()
    for asset in ("/static/govuk/govuk-frontend.min.css", "/static/css/meridian.css"):
        body = page.request.get(live_server.url + asset).text()
        assert "GDS Transport" not in body
        assert "@font-face" not in body
        assert "crown" not in body.lower()
