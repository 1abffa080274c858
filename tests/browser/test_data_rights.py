"""Data rights in Chromium, keyboard only: a patient sees and downloads their data and asks
for erasure; an admin carries it out from the queue. axe at 1280 and 320 px on every page.

A live server of its own (module scope): erasure closes the demo patient's account, which
other browser tests sign in to.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

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
def rights_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    app: Flask = make_live_app(sqlite_template, tmp_path_factory, "rights_live")
    with serving(app) as server:
        yield server


def _check(page: Any) -> None:
    assert axe_violations(page) == [], page.url
    assert what_axe_misses(page) == [], page.url
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def _focused(page: Any, test: str) -> bool:
    script = f"(() => {{ const e = document.activeElement; return !!e && ({test}); }})()"
    return bool(page.evaluate(script))


def _tab_to(page: Any, test: str, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(page, test):
            return
    raise AssertionError(f"Tab never reached {test!r} on {page.url}")


def _link(text: str) -> str:
    return f"e.tagName === 'A' && e.textContent.trim().startsWith({text!r})"


def _button(text: str) -> str:
    return f"e.tagName === 'BUTTON' && e.textContent.trim() === {text!r}"


def _follow(page: Any, test: str) -> None:
    _tab_to(page, test)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _signed_in(open_page: Any, role: str, width: int) -> Any:
    page = open_page(width=width)
    page.goto("/auth/sign-in")
    sign_in_with_keyboard(page, DEMO_EMAILS[role], DEMO_PASSWORD)
    page.wait_for_url(f"**/{'patient' if role == 'patient' else 'admin'}/")
    return page


def test_patient_downloads_data_and_asks_for_erasure_admin_carries_it_out(
    browser: Any, rights_server: LiveServer
) -> None:
    with opening_pages(browser, rights_server, stay_on_site=True) as open_page:
        # Every patient page at both widths, before the request changes the erasure page.
        for width in WIDTHS:
            page = _signed_in(open_page, "patient", width)
            for path, heading in (
                ("/patient/data", "Your data"),
                ("/patient/data/export", "All your data"),
                ("/patient/data/erase", "Ask us to erase your personal data"),
            ):
                page.goto(path)
                assert page.locator("h1").inner_text() == heading
                _check(page)

        # The journey, keyboard only.
        page = _signed_in(open_page, "patient", 1280)
        _follow(page, _link("Download your data or ask us to erase it"))
        assert page.locator("h1").inner_text() == "Your data"
        _follow(page, _link("See all your data on one page"))
        assert "Alex" in page.locator("#profile ~ dl").first.inner_text()
        page.go_back()
        _tab_to(page, _link("Download your data as a JSON file"))
        with page.expect_download() as download:
            page.keyboard.press("Enter")
        assert download.value.suggested_filename == "meridian-my-data.json"
        _follow(page, _link("Ask us to erase your personal data"))
        _follow(page, _button("Ask us to erase my data"))  # nothing ticked: an error
        assert page.title().startswith("Error: ")
        _check(page)
        _tab_to(page, "e.type === 'checkbox'")
        page.keyboard.press("Space")
        _follow(page, _button("Ask us to erase my data"))
        assert page.locator("h1").inner_text() == "We have your request"
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            _check(page)

        # The admin's queue and the request, at both widths; then carried out by keyboard.
        admin = _signed_in(open_page, "admin", 320)
        admin.goto("/admin/erasure-requests")
        _check(admin)
        admin = _signed_in(open_page, "admin", 1280)
        _follow(admin, _link("Erasure requests"))
        _check(admin)
        _follow(admin, _link("Review"))
        assert admin.locator("h1").inner_text().startswith("Erasure request")
        for width in WIDTHS:
            admin.set_viewport_size({"width": width, "height": 900})
            _check(admin)
        admin.set_viewport_size({"width": 1280, "height": 900})
        _tab_to(admin, "e.type === 'checkbox'")
        admin.keyboard.press("Space")
        _follow(admin, _button("Erase personal data"))
        assert "Personal data erased" in admin.locator(".govuk-notification-banner").inner_text()
        assert "No requests are waiting." in admin.locator("main").inner_text()
        _check(admin)

        # The patient's browser is signed out and cannot sign in again.
        page.goto("/patient/data")
        assert "/auth/sign-in" in page.url
        sign_in_with_keyboard(page, DEMO_EMAILS["patient"], DEMO_PASSWORD)
        page.wait_for_load_state()
        assert "/auth/sign-in" in page.url
