"""The waitlist and check-in pages in Chromium: axe at 1280 and 320 px (on load and in error),
and one keyboard-only journey: a guest joins the waitlist, then reports side effects."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, select

from booking.extensions import db
from booking.models import (
    AftercareCheckin,
    Appointment,
    AppointmentStatus,
    OfferStatus,
    PatientProfile,
    SideEffectReport,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.services.platform.tokens import token_hash
from tests.browser.conftest import NARROW
from tests.browser.test_setup_pages import check_page, tab_to
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD

pytestmark = pytest.mark.browser

TOKENS = {"open": "browser-offer-open", "taken": "browser-offer-taken"}
CHECKIN = "browser-checkin-token"
GUEST_PAGES = [
    "/waitlist/join",
    "/waitlist/joined",
    f"/waitlist/offer/{TOKENS['open']}",
    f"/waitlist/offer/{TOKENS['taken']}",
    f"/aftercare/{CHECKIN}",
    f"/aftercare/{CHECKIN}/sent",
]
STAFF_PAGES = {
    "patient": ["/patient/waitlist"],
    "receptionist": ["/reception/waitlist", "/reception/waitlist/new", "/reception/follow-ups"],
    "practitioner": ["/practitioner/"],
}
# Pages whose empty form comes back with an error summary.
ERROR_PAGES = {
    None: ["/waitlist/join", f"/aftercare/{CHECKIN}"],
    "patient": ["/patient/waitlist"],
    "receptionist": ["/reception/waitlist/new"],
}


@pytest.fixture(scope="module")
def waitlist_rows(live_app: Flask) -> Iterator[None]:
    """A waiting entry with an open and a taken offer, and a first session from yesterday with
    its check-in and a side-effect report (on Mei's day view and reception's list)."""
    now = datetime.now(UTC)
    with live_app.app_context():
        patient = db.session.scalar(
            select(PatientProfile).where(PatientProfile.email == DEMO_EMAILS["patient"])
        )
        assert patient is not None
        starts = (now - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        first = Appointment(
            status=AppointmentStatus.completed,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=30),
            busy_from=starts,
            busy_until=starts + timedelta(minutes=35),
            practitioner_id=1,
            location_id=1,
            patient_id=patient.id,
            session_type_id=2,
            is_first_visit=True,
            ics_uid="browser-first-visit@meridian.example",
        )
        entry = WaitlistEntry(
            patient_id=patient.id,
            session_type_id=2,
            location_id=1,
            weekdays="0,2",
            day_parts="morning",
            expires_at=now + timedelta(days=60),
        )
        db.session.add_all([first, entry])
        db.session.flush()
        offer_at = (now + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
        for index, (name, token) in enumerate(TOKENS.items()):
            db.session.add(
                WaitlistOffer(
                    entry_id=entry.id,
                    practitioner_id=1,
                    starts_at=offer_at + timedelta(hours=index),
                    token_hash=token_hash(token),
                    status=OfferStatus(name),
                    expires_at=now + timedelta(hours=12),
                )
            )
        checkin = AftercareCheckin(
            appointment_id=first.id,
            token_hash=token_hash(CHECKIN),
            expires_at=now + timedelta(days=14),
        )
        db.session.add(checkin)
        db.session.flush()
        db.session.add(
            SideEffectReport(
                checkin_id=checkin.id, effects="bruising,fainting", detail="Felt faint at home"
            )
        )
        db.session.commit()
        ids = (first.id, entry.id)
    yield
    with live_app.app_context():
        db.session.execute(
            delete(AftercareCheckin).where(AftercareCheckin.appointment_id == ids[0])
        )
        db.session.execute(delete(Appointment).where(Appointment.id == ids[0]))
        db.session.execute(delete(WaitlistEntry))  # offers go with their entries
        db.session.commit()


def _sign_in(page: Any, role: str) -> None:
    page.goto("/auth/sign-in")
    page.get_by_label("Email address").fill(DEMO_EMAILS[role])
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_waitlist_and_check_in_pages_have_no_axe_violations(
    page_factory: Any, waitlist_rows: None
) -> None:
    """Each page at 320 px; check_page checks it at both widths."""
    pages = {None: page_factory(width=NARROW)}
    for role in STAFF_PAGES:
        pages[role] = page_factory(width=NARROW)
        _sign_in(pages[role], role)
    for role, paths in {None: GUEST_PAGES, **STAFF_PAGES}.items():
        for path in paths:
            pages[role].goto(path)
            check_page(pages[role])
    for role, paths in ERROR_PAGES.items():
        for path in paths:
            page = pages[role]
            page.goto(path)
            page.locator("#submit").click()
            page.wait_for_load_state()
            assert page.locator(".govuk-error-summary").count() == 1, path
            check_page(page)


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_join_and_report_with_the_keyboard_alone(
    page_factory: Any, waitlist_rows: None, js: bool
) -> None:
    page = page_factory(js=js)
    page.goto("/waitlist/join?session_type=2&location=1")
    tab_to(page, "given_name")
    page.keyboard.type("Kay")
    page.keyboard.press("Tab")
    page.keyboard.type("Keys")
    page.keyboard.press("Tab")
    page.keyboard.type("kay@example.com")
    tab_to(page, "practitioner")  # the first practitioner radio: "Any practitioner"
    page.keyboard.press("Space")
    tab_to(page, "weekdays")  # Monday
    page.keyboard.press("Space")
    tab_to(page, "submit")
    page.keyboard.press("Enter")
    page.wait_for_url("**/waitlist/joined")
    assert page.locator("h1").inner_text() == "You are on the waitlist"
    page.goto(f"/aftercare/{CHECKIN}")
    tab_to(page, "effects-2")  # Soreness
    page.keyboard.press("Space")
    tab_to(page, "detail")
    page.keyboard.type("Sore neck")
    tab_to(page, "submit")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/aftercare/{CHECKIN}/sent")
    assert "Thank you for telling us" in page.locator("h1").inner_text()
