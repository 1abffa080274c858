"""Treatment plan pages in Chromium (issue 17): axe at 1280 and 320 px on the new-plan page
(empty, refused, proposal), the plan page, the week view and the page booking the rest of an
extended plan; a practitioner creates a 6-session plan with review points and another
practitioner allowed, books it and records a PEG-3 score with the keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import delete, select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    OutboxMessage,
    OutcomeRecord,
    PatientProfile,
    PlanAppointment,
    PlanPhase,
    TreatmentPlan,
)
from tests.browser.conftest import NARROW
from tests.browser.test_hours_pages import press_until, signed_in
from tests.browser.test_setup_pages import check_page

pytestmark = pytest.mark.browser

LONDON = ZoneInfo("Europe/London")
MEI, ISLINGTON, FOLLOW_UP = 1, 1, 2  # demo seed order


@pytest.fixture
def patient(live_app: Flask) -> Iterator[tuple[int, date]]:
    """A demo patient Mei treats (one session yesterday) and a Monday to start a plan from;
    what it made is removed after (audit rows stay: the trail is append-only)."""
    today = datetime.now(UTC).astimezone(LONDON).date()
    start = datetime.combine(today - timedelta(days=1), time(10), LONDON).astimezone(UTC)
    with live_app.app_context():
        person = db.session.scalars(select(PatientProfile).order_by(PatientProfile.id)).first()
        assert person is not None
        row = Appointment(
            status=AppointmentStatus.completed,
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            busy_from=start,
            busy_until=start + timedelta(minutes=35),
            practitioner_id=MEI,
            location_id=ISLINGTON,
            patient_id=person.id,
            session_type_id=FOLLOW_UP,
            ics_uid=f"browser-plan-{start.isoformat()}@meridian.example",
            booked_at=start - timedelta(days=7),
        )
        db.session.add(row)
        db.session.commit()
        patient_id, seeded = person.id, row.id
    # The plan's start: a Monday five weeks on or more. The new-plan form's weekday is Monday
    # unless changed and the first session falls on it, on or after the start (a start of
    # today + 35 days put session 1 in the week after the start's on six days out of seven).
    later = today + timedelta(days=35)
    yield patient_id, later + timedelta(days=(-later.weekday()) % 7)
    with live_app.app_context():
        ids = [seeded, *db.session.scalars(select(PlanAppointment.appointment_id))]
        for appointment_id in ids:
            db.session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.dedupe_key.like(f"appointment:{appointment_id}:%")
                )
            )
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.kind.like("plan.%")))
        db.session.execute(delete(PlanAppointment))
        db.session.execute(delete(OutcomeRecord))
        db.session.execute(delete(PlanPhase))
        db.session.execute(delete(TreatmentPlan))
        db.session.execute(delete(Appointment).where(Appointment.id.in_(ids)))
        db.session.commit()


def _type_into(page: Any, field_id: str, value: str) -> None:
    for _ in range(60):
        if page.evaluate("document.activeElement && document.activeElement.id") == field_id:
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type(value)


def test_plan_pages_have_no_axe_violations(page_factory: Any, patient: tuple[int, date]) -> None:
    """One walk at 320 px; check_page checks each page at both widths."""
    width = NARROW
    patient_id, start = patient
    page = signed_in(page_factory, "practitioner", width)
    page.goto(f"/practitioner/patients/{patient_id}/plans/new")
    check_page(page)
    page.locator("#goal").fill("Sleep through the night")
    page.locator("#time").fill("25:00")
    page.locator("#start").fill(start.isoformat())
    page.get_by_role("button", name="Show proposed times").click()
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary").count() == 1
    check_page(page)
    page.locator("#time").fill("11:00")
    page.get_by_role("button", name="Show proposed times").click()
    page.wait_for_load_state()
    assert page.locator("fieldset").count() == 6
    check_page(page)
    page.get_by_role("button", name="Book these sessions").click()
    page.wait_for_url("**/practitioner/plans/*")
    plan_url = page.url
    page.locator("#item1").fill("6")
    page.get_by_role("button", name="Record scores").click()
    page.wait_for_load_state()
    assert page.locator("svg.plan-chart").count() == 1
    check_page(page)
    # The week of session 1 shows "session 1 of 6" (the week view changed with it).
    page.goto(f"/practitioner/week?start={start.isoformat()}")
    assert "session 1 of 6" in page.locator("main").inner_text()
    check_page(page)
    # Extend by two: the page booking the rest of the plan.
    page.goto(plan_url)
    page.locator("#extend-count").fill("2")
    page.get_by_role("button", name="Extend the plan").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Book the 2 sessions not yet booked").click()
    page.wait_for_url("**/book")
    assert page.locator("fieldset").count() == 2
    check_page(page)


def test_a_practitioner_books_a_six_session_plan_with_the_keyboard_alone(
    page_factory: Any, patient: tuple[int, date]
) -> None:
    patient_id, start = patient
    page = signed_in(page_factory, "practitioner", js=False)
    page.goto(f"/practitioner/patients/{patient_id}/plans/new")
    _type_into(page, "goal", "Less shoulder pain at work")
    _type_into(page, "time", "11:00")
    _type_into(page, "start", start.isoformat())
    _type_into(page, "count", "6")
    _type_into(page, "review_points", "3, 6")
    _type_into(page, "allow_other", "")
    page.keyboard.press("Space")  # another practitioner may take a session
    assert page.locator("#allow_other").is_checked()
    press_until(page, "Show proposed times")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("fieldset").count() == 6
    press_until(page, "Book these sessions", limit=200)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/practitioner/plans/" in page.url
    body = page.locator("main").inner_text()
    assert "Session 1 of 6" in body
    assert "Session 6 of 6" in body
    assert "Review points: session 3, 6." in body
    assert page.locator('[data-review="yes"]').count() == 2
    # PEG-3 at the first review point (preselected), keyboard only.
    _type_into(page, "item1", "6")
    _type_into(page, "item2", "5")
    _type_into(page, "item3", "4")
    press_until(page, "Record scores")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator('#outcome-table [data-score="5"]').count() == 1
    assert "PEG-3" in page.locator("#outcome-table").inner_text()
