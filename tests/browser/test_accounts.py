"""Accounts in Chromium, keyboard only (issue 19): forgot password, a staff invitation, a
guest's own account. Each page on the way, and its error state, gets axe at 1280 and 320 px.

A live server of its own (module scope): these journeys change passwords and add accounts,
which must never reach the shared live app other browser tests sign in to. Emails go through
the outbox to a real SMTP server (aiosmtpd); the test opens the link the email carries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask

from booking.extensions import db
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
from tests.browser.test_password_change import _focused, _tab_until
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD
from tests.factories import make_appointment, make_patient
from tests.smtp import Inbox, smtp_server

pytestmark = pytest.mark.browser

NEW_PASSWORD = "lantern orchard pebble 47"
LINK = re.compile(r"http://\S+")
GUEST = "river.guest@home.example"
BORN = date(1979, 11, 5)


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def accounts_app(
    sqlite_template: Any, tmp_path_factory: pytest.TempPathFactory, smtp: tuple[Inbox, int]
) -> Flask:
    app = make_live_app(sqlite_template, tmp_path_factory, "accounts_live")
    app.config["SMTP_PORT"] = smtp[1]
    with app.app_context():
        guest = make_patient(
            email=GUEST, date_of_birth=BORN, given_name="River", family_name="Stone"
        )
        make_appointment(patient=guest, starts_at=datetime(2027, 4, 14, 9, 0, tzinfo=UTC))
        db.session.commit()
        db.session.remove()
    return app


@pytest.fixture(scope="module")
def accounts_server(accounts_app: Flask) -> Iterator[LiveServer]:
    with serving(accounts_app) as server:
        accounts_app.config["BASE_URL"] = server.url  # emailed links lead to this server
        yield server


@pytest.fixture
def open_page(browser: Any, accounts_server: LiveServer) -> Iterator[Any]:
    with opening_pages(browser, accounts_server, stay_on_site=True) as open_:
        yield open_


def _check(page: Any) -> None:
    """axe and the markup rules at both widths, then back to 1280."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert axe_violations(page) == [], (page.url, width)
        assert what_axe_misses(page) == [], (page.url, width)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 900})


def _emailed_link(app: Flask, inbox: Inbox, to: str) -> str:
    """Send the outbox and return the link in the newest email to `to`."""
    result = app.test_cli_runner().invoke(args=["send-outbox"])
    assert result.exit_code == 0, result.output
    bodies = [m.get_body().get_content() for m in inbox.messages if m["To"] == to]
    match = LINK.search(bodies[-1])
    assert match
    return match.group(0)


def _follow(page: Any, test: str, limit: int = 40) -> None:
    _tab_until(page, test, limit)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _link(text: str) -> str:
    return f"e.tagName === 'A' && e.textContent.trim() === {text!r}"


def _button(text: str) -> str:
    return f"e.tagName === 'BUTTON' && e.textContent.trim() === {text!r}"


def _type_into(page: Any, field_id: str, value: str, limit: int = 40) -> None:
    _tab_until(page, f"e.id === {field_id!r}", limit)
    page.keyboard.type(value)


def _submit(page: Any, text: str) -> None:
    _follow(page, _button(text), 10)


def _choose_password(page: Any, app: Flask, password: str = NEW_PASSWORD) -> None:
    """The password form of an emailed link: a mismatch first (error state), then right."""
    _check(page)
    _type_into(page, "new_password", password)
    _type_into(page, "confirm_password", password + "!", 2)
    _submit(page, "Save password")
    assert page.title().startswith("Error: ")
    assert _focused(page, "e.classList.contains('govuk-error-summary')")
    _check(page)
    _type_into(page, "new_password", password)
    _type_into(page, "confirm_password", password, 2)
    _submit(page, "Save password")


def test_forgot_password_resets_signs_in_and_signs_out_elsewhere(
    open_page: Any, accounts_app: Flask, smtp: tuple[Inbox, int]
) -> None:
    inbox, _port = smtp
    email = DEMO_EMAILS["receptionist"]
    elsewhere = open_page()
    elsewhere.goto("/auth/sign-in")
    sign_in_with_keyboard(elsewhere, email, DEMO_PASSWORD)
    elsewhere.wait_for_url("**/reception/")

    page = open_page()
    page.goto("/")
    _follow(page, _link("Sign in"))
    _follow(page, _link("Forgot your password?"))
    assert page.locator("h1").inner_text() == "Reset your password"
    _check(page)
    _submit(page, "Send the link")  # nothing typed: the error state
    assert page.locator(".govuk-error-summary").is_visible()
    _check(page)
    _type_into(page, "email", email)
    _submit(page, "Send the link")
    assert page.locator("h1").inner_text() == "Check your email"
    _check(page)

    link = _emailed_link(accounts_app, inbox, email)
    page.goto(link)
    assert page.locator("h1").inner_text() == "Choose a new password"
    _choose_password(page, accounts_app)
    page.wait_for_url("**/reception/")
    assert "signed out everywhere else" in page.locator(".govuk-notification-banner").inner_text()

    elsewhere.reload()
    assert "/auth/sign-in" in elsewhere.url
    accounts_app.test_cli_runner().invoke(args=["send-outbox"])
    assert any(m["Subject"].startswith("Your password was changed") for m in inbox.messages)

    # The link is spent: the one page for every dead link.
    page.goto(link)
    assert page.locator("h1").inner_text() == "That link no longer works"
    _check(page)


def test_an_admin_invites_a_receptionist_who_sets_a_password_and_signs_in(
    open_page: Any, accounts_app: Flask, smtp: tuple[Inbox, int]
) -> None:
    inbox, _port = smtp
    admin = open_page()
    admin.goto("/auth/sign-in")
    sign_in_with_keyboard(admin, DEMO_EMAILS["admin"], DEMO_PASSWORD)
    admin.wait_for_url("**/admin/")
    _follow(admin, _link("Staff accounts"))
    _check(admin)
    _follow(admin, _link("Invite a member of staff"))
    _submit(admin, "Send invitation")  # nothing chosen: the error state
    _check(admin)
    _type_into(admin, "display_name", "Robin Desk")
    _type_into(admin, "email", "robin.desk@meridian.example", 3)
    _tab_until(admin, "e.id === 'role'", 3)  # the radios: Tab reaches the first
    admin.keyboard.press("ArrowDown")  # and an arrow moves to (and chooses) Receptionist
    assert _focused(admin, "e.id === 'role-2' && e.checked")
    _submit(admin, "Send invitation")
    assert "Invitation sent to Robin Desk" in admin.content()
    assert "Invited, link works until" in admin.content()

    newcomer = open_page()
    newcomer.goto(_emailed_link(accounts_app, inbox, "robin.desk@meridian.example"))
    assert newcomer.locator("h1").inner_text() == "Choose your password"
    _choose_password(newcomer, accounts_app)
    newcomer.wait_for_url("**/reception/")
    # Signed out, the new password signs in.
    _follow(newcomer, _button("Sign out"))
    sign_in_with_keyboard(newcomer, "robin.desk@meridian.example", NEW_PASSWORD)
    newcomer.wait_for_url("**/reception/")
    admin.reload()
    assert "Invited, link works until" not in admin.content()


def test_a_guest_creates_an_account_and_sees_their_earlier_booking(
    open_page: Any, accounts_app: Flask, smtp: tuple[Inbox, int]
) -> None:
    inbox, _port = smtp
    page = open_page()
    page.goto("/")
    _follow(page, _link("Sign in"))
    _follow(page, _link("create an account"))
    assert page.locator("h1").inner_text() == "Create an account"
    _check(page)
    _submit(page, "Send the link")
    _check(page)
    _type_into(page, "email", GUEST)
    _type_into(page, "dob_day", str(BORN.day), 3)
    _type_into(page, "dob_month", str(BORN.month), 2)
    _type_into(page, "dob_year", str(BORN.year), 2)
    _submit(page, "Send the link")
    assert page.locator("h1").inner_text() == "Check your email"

    page.goto(_emailed_link(accounts_app, inbox, GUEST))
    assert page.locator("h1").inner_text() == "Choose a password for your account"
    _choose_password(page, accounts_app, "pebble lantern")
    page.wait_for_url("**/patient/")
    assert page.locator("h1").inner_text() == "Your account"
    assert "Wednesday 14 April 2027" in page.content()
    _check(page)

    _follow(page, _link("Change phone number"))
    _type_into(page, "phone", "0777 123")
    _submit(page, "Save contact details")
    assert "Enter a phone number, like 07400 123456" in page.content()
    _check(page)
