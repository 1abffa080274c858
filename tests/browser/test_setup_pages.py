"""Clinic set-up pages in Chromium: axe at 1280 and 320 px on load and in error, keyboard only,
JavaScript off."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import NARROW, at_both_widths, axe_violations, what_axe_misses
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD

pytestmark = pytest.mark.browser

PAGES = [
    "/admin/",
    "/admin/policies",
    "/admin/locations",
    "/admin/locations/new",
    "/admin/locations/1",
    "/admin/locations/1/rooms/new",
    "/admin/rooms/1",
    "/admin/session-types",
    "/admin/session-types/new",
    "/admin/session-types/1",
]
# A page and the answer that puts it in error: (field id, text typed over it) or None to submit
# the empty "add" form as it is. Each form page also shows one error per question left empty.
ERROR_STATES = [
    ("/admin/policies", ("min_notice_minutes", "two hours")),
    ("/admin/locations/new", None),
    ("/admin/locations/1", ("timezone", "Mars/Olympus")),  # refused by the service: 422
    ("/admin/locations/1/rooms/new", None),
    ("/admin/rooms/1", ("capacity", "13")),
    ("/admin/session-types/new", None),
    ("/admin/session-types/1", ("duration_minutes", "50")),
]


def signed_in_admin(page_factory: Any, width: int = 1280, js: bool = True) -> Any:
    page = page_factory(width=width, js=js)
    page.goto("/auth/sign-in")
    page.get_by_label("Email address").fill(DEMO_EMAILS["admin"])
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")
    return page


def check_page(page: Any) -> None:
    """axe, the markup rules and no sideways scroll at both widths; title and console once."""

    def _at_this_width() -> None:
        assert axe_violations(page) == [], (page.url, page.viewport_size)
        assert what_axe_misses(page) == [], (page.url, page.viewport_size)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    at_both_widths(page, _at_this_width)
    assert page.off_site == []
    # A form refused by a service comes back as 422, which Chromium logs; nothing else may.
    assert [e for e in page.console_errors if "status of 422" not in e] == []
    assert page.title().startswith(
        ("Error: " if page.locator(".govuk-error-summary").count() else "")
        + page.locator("h1").inner_text()
    )


def test_set_up_pages_have_no_axe_violations(page_factory: Any) -> None:
    page = signed_in_admin(page_factory, NARROW)
    for path in PAGES:
        page.goto(path)
        check_page(page)


@pytest.mark.parametrize(("path", "answer"), ERROR_STATES)
def test_error_states_have_no_axe_violations(
    page_factory: Any, path: str, answer: tuple[str, str] | None
) -> None:
    page = signed_in_admin(page_factory, NARROW)
    page.goto(path)
    if answer:
        page.locator(f"#{answer[0]}").fill(answer[1])
    page.locator("main #submit").click()
    page.wait_for_load_state()
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    # GOV.UK Frontend moves focus to the summary so screen readers announce it first.
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    check_page(page)
    # Each summary link moves to its question.
    first = summary.locator("a").first
    target = first.get_attribute("href")
    first.click()
    assert page.evaluate("document.activeElement.id") == target[1:]


def tab_to(page: Any, element_id: str, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} not reached with Tab")


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_add_a_room_with_the_keyboard_alone(page_factory: Any, js: bool) -> None:
    page = signed_in_admin(page_factory, js=js)
    page.goto("/admin/locations")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Add a room at Dublin":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/locations/2/rooms/new")
    name = f"Keyboard room {'js' if js else 'no js'}"
    tab_to(page, "name")
    page.keyboard.type(name)
    page.keyboard.press("Tab")  # into the kind radios: the first is focused, not chosen
    page.keyboard.press("Space")
    tab_to(page, "capacity")
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    tab_to(page, "is_active")
    page.keyboard.press("Space")
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Save room":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/locations")
    assert f"{name} added" in page.locator(".govuk-notification-banner").inner_text()
    row = page.locator("tr", has_text=name)
    assert "Treatment" in row.inner_text()
    assert "2" in row.inner_text()
