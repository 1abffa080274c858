"""Issue 19's rough edges in Chromium: "Start now" within 5 Tabs of load; axe at 1280 and
320 px on the public holidays page, the page that asks before removing, and the location
form's region in error."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import NARROW
from tests.browser.test_setup_pages import check_page, signed_in_admin

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_start_now_comes_within_five_tabs_of_load(page_factory: Any, js: bool) -> None:
    page = page_factory(js=js)
    page.goto("/")
    presses = 0
    while page.evaluate("document.activeElement.textContent.trim()") != "Start now":
        presses += 1
        assert presses <= 5, "Start now is more than 5 Tabs from load"
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/**")


def test_new_pages_and_error_states_have_no_axe_violations(page_factory: Any) -> None:
    """One walk at 320 px; check_page checks each page at both widths."""
    page = signed_in_admin(page_factory, NARROW)
    for path in ("/admin/holidays", "/admin/practitioners/1/hours/1/remove", "/admin/locations/1"):
        page.goto(path)
        check_page(page)
    page.fill("#subdivision", "XYZ")  # not a region of GB: refused by the service (422)
    page.get_by_role("button", name="Save location").click()
    page.wait_for_load_state()
    assert page.title().startswith("Error: ")
    assert "Enter a region of GB for public holidays" in page.inner_text(".govuk-error-summary")
    check_page(page)
    page.fill("#subdivision", "GB-ENG")
    page.fill("#phone", "0777 123")  # too short to be a number
    page.get_by_role("button", name="Save location").click()
    page.wait_for_load_state()
    assert "Enter a phone number, like 07400 123456" in page.inner_text(".govuk-error-summary")
    check_page(page)
    page.goto("/admin/holidays")
    page.get_by_role("button", name="Open Islington on Christmas Day").first.click()
    page.wait_for_load_state()
    assert "Islington is open on Christmas Day" in page.inner_text("main")
    check_page(page)  # with the success banner and an Open tag
    page.get_by_role("button", name="Close Islington on Christmas Day").first.click()
    page.wait_for_load_state()
