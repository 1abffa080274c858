"""The patient's and reception's plan pages in Chromium (issue 17): axe at 1280 and 320 px on
the patient's plan page, a score question (empty and refused), check answers, "request a
change", reception's plan page and its "book the rest of the plan" page; then the patient
sends a score with the keyboard alone and JavaScript off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import delete, select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    BookingDraft,
    OutcomeMeasure,
    OutcomeRecord,
    PatientProfile,
    PlanAppointment,
    PlanChangeRequest,
    PlanPhase,
    PlanStatus,
    TreatmentPlan,
)
from booking.services.platform.tokens import token_hash
from tests.browser.conftest import NARROW, sign_in_with_keyboard
from tests.browser.test_hours_pages import press_until
from tests.browser.test_setup_pages import check_page
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD

pytestmark = pytest.mark.browser

LONDON = ZoneInfo("Europe/London")
MEI, ISLINGTON, FOLLOW_UP = 1, 1, 2  # demo seed order
GOAL = "Carry the shopping home"


@pytest.fixture
def alex_plan(live_app: Flask) -> Iterator[int]:
    """An active pain 0-10 plan of Alex Morgan (the demo patient account): two sessions to
    come at 7am (outside the other browser tests' times), a third not booked yet, two scores
    already. Removed after, audit rows apart (append-only)."""
    today = datetime.now(UTC).astimezone(LONDON).date()
    with live_app.app_context():
        alex = db.session.scalars(select(PatientProfile).order_by(PatientProfile.id)).first()
        assert alex is not None
        rows = []
        for week in (6, 7):
            start = datetime.combine(today + timedelta(weeks=week), time(7), LONDON)
            start = start.astimezone(UTC)
            rows.append(
                Appointment(
                    status=AppointmentStatus.booked,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=30),
                    busy_from=start,
                    busy_until=start + timedelta(minutes=35),
                    practitioner_id=MEI,
                    location_id=ISLINGTON,
                    patient_id=alex.id,
                    session_type_id=FOLLOW_UP,
                    ics_uid=f"browser-patient-plan-{week}@meridian.example",
                    booked_at=start - timedelta(days=60),
                    manage_token_hash=token_hash(f"browser-patient-plan-{week}"),
                )
            )
        db.session.add_all(rows)
        plan = TreatmentPlan(
            patient_id=alex.id,
            practitioner_id=MEI,
            location_id=ISLINGTON,
            goal=GOAL,
            condition_tag="low-back-pain",
            status=PlanStatus.active,
            measure=OutcomeMeasure.pain_nrs,
            review_points="2",
        )
        plan.phases = [
            PlanPhase(
                position=1,
                session_type_id=FOLLOW_UP,
                count=3,
                interval_weeks=1,
                weekday=rows[0].starts_at.astimezone(LONDON).weekday(),
                local_time=time(7),
            )
        ]
        db.session.add(plan)
        db.session.flush()
        db.session.add_all(PlanAppointment(appointment_id=r.id, plan_id=plan.id) for r in rows)
        for days, score in ((14, 6), (7, 4)):
            db.session.add(
                OutcomeRecord(
                    plan_id=plan.id,
                    measure=OutcomeMeasure.pain_nrs,
                    item1=score,
                    score=float(score),
                    recorded_at=datetime.now(UTC) - timedelta(days=days),
                )
            )
        db.session.commit()
        plan_id, ids = plan.id, [r.id for r in rows]
    yield plan_id
    with live_app.app_context():
        db.session.execute(delete(PlanChangeRequest).where(PlanChangeRequest.plan_id == plan_id))
        db.session.execute(delete(OutcomeRecord).where(OutcomeRecord.plan_id == plan_id))
        db.session.execute(delete(PlanAppointment).where(PlanAppointment.plan_id == plan_id))
        db.session.execute(delete(PlanPhase).where(PlanPhase.plan_id == plan_id))
        db.session.execute(delete(TreatmentPlan).where(TreatmentPlan.id == plan_id))
        db.session.execute(delete(Appointment).where(Appointment.id.in_(ids)))
        db.session.execute(delete(BookingDraft))
        db.session.commit()


def _sign_in(page_factory: Any, role: str, width: int, js: bool = True) -> Any:
    page = page_factory(width=width, js=js)
    page.goto("/auth/sign-in")
    sign_in_with_keyboard(page, DEMO_EMAILS[role], DEMO_PASSWORD)
    page.wait_for_url("**/patient/" if role == "patient" else "**/reception/")
    return page


@pytest.mark.slow
def test_patient_and_reception_plan_pages(page_factory: Any, alex_plan: int) -> None:
    # Each page at 320 px; check_page checks it at both widths.
    page = _sign_in(page_factory, "patient", NARROW)
    page.goto(f"/patient/plans/{alex_plan}")
    assert page.locator("svg.plan-chart").count() == 1
    check_page(page)
    page.goto(f"/patient/plans/{alex_plan}/scores")
    check_page(page)  # the question
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary").count() == 1
    check_page(page)
    page.get_by_label("3", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/scores/check")
    check_page(page)
    page.goto(f"/patient/plans/{alex_plan}/request-change")
    check_page(page)
    desk = _sign_in(page_factory, "receptionist", NARROW)
    desk.goto(f"/reception/plans/{alex_plan}")
    check_page(desk)
    desk.get_by_role("link", name="Book the 1 plan session not yet booked").click()
    desk.wait_for_url(f"**/reception/plans/{alex_plan}/book")
    assert "Session 3 of 3" in desk.locator("main").inner_text()
    check_page(desk)

    # The journey, keyboard alone with JavaScript off: account -> plan -> score -> send.
    page = _sign_in(page_factory, "patient", 1280, js=False)
    press_until(page, GOAL)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Session 1 of 3" in page.locator("main").inner_text()
    press_until(page, "Send your scores")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    for _ in range(40):  # to the first radio (0), then the arrow keys choose 2
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "score":
            break
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    press_until(page, "Continue")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/scores/check" in page.url
    assert "2 out of 10" in page.locator("main").inner_text()
    press_until(page, "Send scores")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    main = page.locator("main").inner_text()
    assert "Your scores have been sent" in page.content()
    assert "You have sent your scores for your next session." in main
    values = page.locator("svg.plan-chart .plan-chart-value").all_text_contents()
    cells = page.locator("#outcome-table td[data-score]").all_inner_texts()
    assert values == cells == ["6", "4", "2"]
