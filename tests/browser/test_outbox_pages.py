"""The admin's email pages and the opt-out page in Chromium: axe at 1280 and 320 px, and
retrying a failed message with the keyboard alone (JavaScript off).

A live server of its own (module scope): the journey changes outbox rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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

NOW = datetime(2027, 4, 13, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def outbox_app(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    from booking.extensions import db
    from booking.models import OutboxStatus, PatientProfile
    from booking.services.platform.outbox import PAGE_SIZE, enqueue
    from booking.services.reminders.unsubscribe import unsubscribe_token

    app = make_live_app(sqlite_template, tmp_path_factory, "outbox_live")
    with app.app_context():
        states = [OutboxStatus.pending] * (PAGE_SIZE + 3) + [OutboxStatus.dead, OutboxStatus.sent]
        for index, status in enumerate(states):
            message = enqueue(
                kind="reminder.24h",
                recipient=f"patient{index}@example.com",
                subject="Reminder: your session on 14 April – Meridian Acupuncture",
                body_text="Body",
                dedupe_key=f"browser:{index}",
                now=NOW - timedelta(minutes=index),
            )
            message.status = status
            if status == OutboxStatus.dead:
                message.attempts, message.last_error = 8, "451 Temporary failure, try later"
            if status == OutboxStatus.sent:
                message.sent_at = NOW
        patient = db.session.query(PatientProfile).order_by(PatientProfile.id).first()
        db.session.commit()
        app.config["UNSUBSCRIBE_PATH"] = (
            f"/unsubscribe/{patient.id}/"
            f"{unsubscribe_token(patient.id, secret=app.config['SECRET_KEY'])}"
        )
    return app


@pytest.fixture(scope="module")
def outbox_server(outbox_app: Flask) -> Iterator[LiveServer]:
    with serving(outbox_app) as server:
        yield server


@pytest.fixture
def open_page(browser: Any, outbox_server: LiveServer) -> Iterator[Any]:
    with opening_pages(browser, outbox_server, stay_on_site=True) as open_:
        yield open_


def _check(page: Any, title: str) -> None:
    assert page.title().startswith(title), page.title()

    def _at_this_width() -> None:
        assert axe_violations(page) == [], (title, page.viewport_size)
        assert what_axe_misses(page) == [], (title, page.viewport_size)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    at_both_widths(page, _at_this_width)


def _sign_in_admin(page: Any) -> None:
    page.goto("/auth/sign-in")
    page.get_by_label("Email address").fill(DEMO_EMAILS["admin"])
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")


def test_the_email_pages_have_no_axe_violations(open_page: Any, outbox_app: Flask) -> None:
    """Each page at 320 px, checked at both widths."""
    page = open_page(width=NARROW)
    page.goto(outbox_app.config["UNSUBSCRIBE_PATH"])
    _check(page, "Stop reminders by email")
    _sign_in_admin(page)
    page.goto("/admin/outbox")
    assert page.locator(".govuk-pagination").is_visible()
    _check(page, "Email: waiting (page 1 of 2)")
    page.goto("/admin/outbox?status=failed")
    _check(page, "Email: failed")
    page.goto("/admin/reminders")
    _check(page, "Reminder settings")
    assert page.locator(".govuk-warning-text").is_visible()


def test_retry_a_failed_message_with_the_keyboard_alone(open_page: Any) -> None:
    page = open_page(js=False)
    page.goto("/auth/sign-in")
    sign_in_with_keyboard(page, DEMO_EMAILS["admin"], DEMO_PASSWORD)
    page.wait_for_url("**/admin/")

    def tab_to(test: str, limit: int = 60) -> None:
        script = f"(() => {{ const e = document.activeElement; return !!e && ({test}); }})()"
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(script):
                return
        raise AssertionError(f"Tab never reached {test!r} on {page.url}")

    tab_to("e.tagName === 'A' && e.textContent.trim() === 'Email'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to("e.tagName === 'A' && e.textContent.trim().startsWith('Failed (1)')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.title().startswith("Email: failed")
    tab_to("e.tagName === 'BUTTON' && e.textContent.trim().startsWith('Retry')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.title().startswith("Email: waiting")
    banner = page.locator(".govuk-notification-banner").inner_text()
    assert "The message will be sent at the next run" in banner
