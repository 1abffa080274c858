"""The practitioner's calendar in Chromium (issue 15): axe at 1280 and 320 px on every page and
error state, and the week-to-day journey with the keyboard alone, JavaScript on and off."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import delete, select, update

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    OutboxMessage,
    PatientProfile,
    Practitioner,
)
from tests.browser.conftest import NARROW, WIDTHS
from tests.browser.test_hours_pages import press_until, signed_in
from tests.browser.test_setup_pages import check_page

pytestmark = pytest.mark.browser

LONDON = ZoneInfo("Europe/London")
MEI, ISLINGTON, FOLLOW_UP = 1, 1, 2  # demo seed order


@dataclass(frozen=True)
class Sessions:
    past: list[int]  # two sessions of Mei's yesterday at 10am and 11am, still booked
    future: int  # one at 10am on a weekday at least two days ahead
    past_day: date
    future_day: date
    names: dict[int, str]


def _insert(start: datetime, patient: PatientProfile, tag: str) -> Appointment:
    appointment = Appointment(
        status=AppointmentStatus.booked,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        busy_from=start,
        busy_until=start + timedelta(minutes=35),
        practitioner_id=MEI,
        location_id=ISLINGTON,
        patient_id=patient.id,
        session_type_id=FOLLOW_UP,
        ics_uid=f"browser-calendar-{tag}-{start.isoformat()}@meridian.example",
        booked_at=start - timedelta(days=7),
    )
    db.session.add(appointment)
    return appointment


@pytest.fixture
def sessions(live_app: Flask) -> Iterator[Sessions]:
    """Three sessions of Mei Lin Chen's with demo patients, removed (with what they caused)
    afterwards so every test starts from the demo's empty calendar."""
    today = datetime.now(UTC).astimezone(LONDON).date()
    past_day = today - timedelta(days=1)
    future_day = today + timedelta(days=2)
    while future_day.weekday() >= 5:  # Mei works Monday to Friday
        future_day += timedelta(days=1)

    def at(day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), LONDON).astimezone(UTC)

    with live_app.app_context():
        patients = list(db.session.scalars(select(PatientProfile).order_by(PatientProfile.id)))
        rows = [
            _insert(at(past_day, 10), patients[1], "a"),
            _insert(at(past_day, 11), patients[2], "b"),
            _insert(at(future_day, 10), patients[3], "c"),
        ]
        db.session.commit()
        ids = [row.id for row in rows]
        names = {row.id: patients[n + 1].full_name for n, row in enumerate(rows)}
    yield Sessions(ids[:2], ids[2], past_day, future_day, names)
    with live_app.app_context():
        for appointment_id in ids:  # the change emails these sessions queued
            db.session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.dedupe_key.like(f"appointment:{appointment_id}:%")
                )
            )
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.appointment_id.in_(ids)))
        # Audit rows stay: the audit trail is append-only (a trigger refuses DELETE).
        db.session.execute(delete(Appointment).where(Appointment.id.in_(ids)))
        db.session.execute(
            update(Practitioner)
            .where(Practitioner.id == MEI)
            .values(feed_token_hash=None, feed_token_created_at=None)
        )
        db.session.commit()


def _submit(page: Any, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def test_calendar_pages_and_error_states_have_no_axe_violations(
    page_factory: Any, live_app: Flask, sessions: Sessions
) -> None:
    """One walk at 320 px; check_page checks each page at both widths."""
    page = signed_in(page_factory, "practitioner", NARROW)
    past, future = sessions.past_day.isoformat(), sessions.future_day.isoformat()
    for path in (
        f"/practitioner/day?date={past}",
        f"/practitioner/week?start={past}",
        f"/practitioner/week?start={future}",
        f"/practitioner/day/print?date={past}",
        f"/practitioner/sessions/{sessions.future}/change-time",
        f"/practitioner/sessions/{sessions.future}/change-time?date={past}",  # no free times
        f"/practitioner/sessions/{sessions.future}/cancel",
        "/practitioner/calendar-feed",
    ):
        page.goto(path)
        check_page(page)
    # Printed (A4 landscape, from the wide layout): no actions, forms or URLs after links.
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    page.goto(f"/practitioner/day?date={past}")
    page.emulate_media(media="print")
    assert not page.locator("th.meridian-cal-actions").is_visible()
    assert not page.locator("main form").first.is_visible()
    assert page.locator("table thead th").first.is_visible()
    after = "getComputedStyle(document.querySelector('main td a, main a'), '::after').content"
    assert page.evaluate(after) in ("none", "normal")
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": NARROW, "height": 900})
    page.goto("/practitioner/calendar-feed")
    # The new feed address, shown once; then the page of a feed that exists.
    page.get_by_role("button", name="Make a feed address").click()
    page.wait_for_load_state()
    assert "/calendar-feed/" in page.locator(".meridian-secret").inner_text()
    check_page(page)
    page.goto("/practitioner/calendar-feed")
    check_page(page)
    # Error states: malformed dates, an empty time choice, a blank reason, a refused action.
    for path in ("/practitioner/day?date=2027-02-30", "/practitioner/week?start=soon"):
        page.goto(path)
        assert page.locator(".govuk-error-summary").is_visible()
        check_page(page)
    page.goto(f"/practitioner/sessions/{sessions.future}/change-time")
    _submit(page, "Move session")
    assert "Select a new time" in page.locator(".govuk-error-summary").inner_text()
    check_page(page)
    page.goto(f"/practitioner/sessions/{sessions.future}/cancel")
    _submit(page, "Cancel session")
    assert "Enter why" in page.locator(".govuk-error-summary").inner_text()
    check_page(page)
    page.goto(f"/practitioner/day?date={past}")
    with live_app.app_context():  # marked elsewhere since the page loaded
        db.session.execute(
            update(Appointment)
            .where(Appointment.id == sessions.past[0])
            .values(status=AppointmentStatus.no_show)
        )
        db.session.commit()
    with page.expect_navigation():
        page.locator(f"#session-{sessions.past[0]} button", has_text="Completed").click()
    assert "Only a booked session" in page.locator(".govuk-error-summary").inner_text()
    check_page(page)


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_move_a_session_then_mark_completed_and_no_show_with_the_keyboard_alone(
    page_factory: Any, live_app: Flask, sessions: Sessions, js: bool
) -> None:
    page = signed_in(page_factory, "practitioner", js=js)
    future_name = sessions.names[sessions.future]
    page.goto(f"/practitioner/week?start={sessions.future_day.isoformat()}")
    press_until(page, f"10am to 10:30am: {future_name}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    press_until(page, f"Change time: 10am to 10:30am, {_words(sessions.future_day)}: {future_name}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # The time radios are one tab stop: the first (9am) is focused, not chosen; move to 9:15am.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "start":
            break
    page.keyboard.press("ArrowDown")
    press_until(page, "Move session", limit=40)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    banner = page.locator(".govuk-notification-banner").inner_text()
    assert f"Session moved to 9:15am to 9:45am, {_words(sessions.future_day)}" in banner

    first, second = sessions.past
    page.goto(f"/practitioner/week?start={sessions.past_day.isoformat()}")
    press_until(page, f"10am to 10:30am: {sessions.names[first]}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    past_words = _words(sessions.past_day)
    press_until(page, f"Completed: 10am to 10:30am, {past_words}: {sessions.names[first]}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "marked completed" in page.locator(".govuk-notification-banner").inner_text()
    press_until(page, f"No-show: 11am to 11:30am, {past_words}: {sessions.names[second]}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "marked as a no-show" in page.locator(".govuk-notification-banner").inner_text()
    with live_app.app_context():
        rows = {
            row.id: row
            for row in db.session.scalars(
                select(Appointment).where(Appointment.id.in_([*sessions.past, sessions.future]))
            )
        }
        assert rows[first].status == AppointmentStatus.completed
        assert rows[second].status == AppointmentStatus.no_show
        moved = rows[sessions.future].starts_at.astimezone(LONDON)
        assert (moved.date(), moved.time()) == (sessions.future_day, time(9, 15))


def _words(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"
