"""Treatment plan pages of a practitioner (issue 17): create, propose, book, progress, chart."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import (
    Location,
    OutboxMessage,
    OutcomeRecord,
    PatientProfile,
    Practitioner,
    SessionType,
    TreatmentPlan,
    User,
)
from booking.services.plans import planning
from tests.conftest import sign_in
from tests.factories import make_appointment, make_patient
from tests.web.booking_helpers import Clock, error_summary, text

WEDNESDAY = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)  # Mei works 9am-1pm, 2pm-6pm (GMT)
TAKEN = datetime(2027, 3, 17, 11, 0, tzinfo=UTC)  # the third Wednesday at 11am


def _book(start: datetime, name: str, **patient: str) -> int:
    mei = db.session.scalar(select(Practitioner).where(Practitioner.display_name == name))
    follow_up = db.session.scalar(
        select(SessionType).where(SessionType.slug == "follow-up-acupuncture")
    )
    islington = db.session.scalar(select(Location).where(Location.slug == "islington"))
    row = make_appointment(
        starts_at=start,
        practitioner=mei,
        location=islington,
        session_type=follow_up,
        patient=make_patient(**patient),
    )
    return row.patient_id


@pytest.fixture
def mei(
    demo: Flask, login_as: Callable[[str], FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> tuple[FlaskClient, int, int, int]:
    with demo.app_context():
        jane = _book(WEDNESDAY, "Mei Lin Chen", given_name="Jane", family_name="Smith")
        _book(TAKEN, "Mei Lin Chen", given_name="Ola", family_name="Busy")
        stranger = _book(WEDNESDAY, "Tom Okafor", given_name="Sam", family_name="Stranger")
        follow_up = db.session.scalar(
            select(SessionType.id).where(SessionType.slug == "follow-up-acupuncture")
        )
        db.session.commit()
    Clock(monkeypatch)
    return login_as("practitioner"), jane, stranger, follow_up


def form(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def plan_fields(follow_up: int, **overrides: str) -> dict[str, str]:
    return {
        "goal": "Walk without knee pain",
        "condition_tag": "knee-pain",
        "session_type_id": str(follow_up),
        "weekday": "2",
        "time": "11:00",
        "start": "2027-03-02",
        "count": "6",
        "interval_weeks": "1",
        **overrides,
    }


def test_a_practitioner_proposes_and_books_a_plan_and_follows_it(
    demo: Flask, mei: tuple[FlaskClient, int, int, int]
) -> None:
    client, jane, _, follow_up = mei
    path = f"/practitioner/patients/{jane}/plans/new"
    token = form(client, path)

    bad = client.post(path, data={**plan_fields(follow_up, time="25:00"), "csrf_token": token})
    assert bad.status_code == 422
    assert "Enter a time like 10:00" in error_summary(bad)

    shown = client.post(path, data={**plan_fields(follow_up), "csrf_token": token})
    assert shown.status_code == 200
    page = text(shown)
    assert "Session 1 of 6: Wed 3 Mar 2027, 11:00 GMT" in page
    assert "Session 3 of 6: Wed 17 Mar 2027, 11:00 GMT (taken)" in page
    assert "Session 5 of 6: Wed 31 Mar 2027, 11:00 BST" in page  # after the clock change
    html = shown.get_data(as_text=True)
    choices = dict(re.findall(r'name="(session-\d)" type="radio" value="([^"]+)" checked', html))
    assert len(choices) == 6
    assert choices["session-3"].startswith("2027-03-17T")
    assert choices["session-3"] != ("2027-03-17T11:00:00+00:00")

    booked = client.post(
        path, data={**plan_fields(follow_up), **choices, "action": "book", "csrf_token": token}
    )
    assert booked.status_code == 302, error_summary(booked)
    plan_page = client.get(booked.headers["Location"])
    page = text(plan_page)
    assert "Session 1 of 6" in page
    assert "Session 6 of 6" in page
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', plan_page.get_data(as_text=True)))
    assert counts == {"total": "6", "done": "0", "booked": "6", "remaining": "0"}

    plan_url = booked.headers["Location"]
    day = text(client.get("/practitioner/day?date=2027-03-10"))
    assert "Session 2 of 6" in day
    printed = text(client.get("/practitioner/day/print?date=2027-03-10"))
    assert "Session 2 of 6" in printed
    for score in ("7", "6", "4"):
        assert client.post(f"{plan_url}/outcomes", data={"item1": score, "csrf_token": token})
    html = client.get(plan_url).get_data(as_text=True)
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)  # type: ignore[union-attr]
    table = re.search(r'<table class="govuk-table" id="outcome-table">.*?</table>', html, re.S)
    chart_values = re.findall(r'class="plan-chart-value">([0-9.]+)<', svg)
    dots = re.findall(r'data-score="([0-9.]+)"', svg)
    cells = re.findall(r'data-score="([0-9.]+)">', table.group(0))  # type: ignore[union-attr]
    assert chart_values == dots == cells == ["7", "6", "4"]
    assert "improv" not in html.lower()

    blank = client.post(
        f"{plan_url}/change", data={"action": "pause", "reason": " ", "csrf_token": token}
    )
    assert blank.status_code == 422
    assert "Enter why the plan is paused" in error_summary(blank)
    paused = client.post(
        f"{plan_url}/change", data={"action": "pause", "reason": "Away", "csrf_token": token}
    )
    assert paused.status_code == 302
    client.post(f"{plan_url}/change", data={"action": "resume", "csrf_token": token})
    client.post(f"{plan_url}/change", data={"action": "extend", "count": "2", "csrf_token": token})
    html = client.get(plan_url).get_data(as_text=True)
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', html))
    assert counts == {"total": "8", "done": "0", "booked": "0", "remaining": "8"}
    cancelled = client.post(
        f"{plan_url}/change", data={"action": "cancel", "reason": "Moved", "csrf_token": token}
    )
    assert cancelled.status_code == 302
    with demo.app_context():
        plan = db.session.scalars(select(TreatmentPlan)).one()
        assert (plan.status, plan.status_reason) == ("cancelled", "Moved")


def test_plans_are_for_own_patients_only(mei: tuple[FlaskClient, int, int, int]) -> None:
    client, _, stranger, _ = mei
    assert client.get(f"/practitioner/patients/{stranger}/plans/new").status_code == 404
    assert client.get("/practitioner/plans/999").status_code == 404


def test_review_points_another_practitioner_peg3_and_k_of_n_on_every_page(
    demo: Flask,
    mei: tuple[FlaskClient, int, int, int],
    login_as: Callable[[str], FlaskClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, jane, _, follow_up = mei
    path = f"/practitioner/patients/{jane}/plans/new"
    token = form(client, path)
    fields = plan_fields(follow_up, review_points="2, 4", allow_other="yes", start="2027-03-23")
    bad = client.post(path, data={**fields, "review_points": "2, 9", "csrf_token": token})
    assert bad.status_code == 422
    assert "Enter session numbers from 1 to 6, like 3, 6" in error_summary(bad)
    shown = client.post(path, data={**fields, "csrf_token": token})
    html = shown.get_data(as_text=True)
    assert 'id="allow_other" name="allow_other" type="checkbox" value="yes"' in html
    assert "checked" in re.search(r'<input[^>]*id="allow_other"[^>]*>', html).group(0)  # type: ignore[union-attr]
    choices = dict(re.findall(r'name="(session-\d)" type="radio" value="([^"]+)" checked', html))
    booked = client.post(path, data={**fields, **choices, "action": "book", "csrf_token": token})
    assert booked.status_code == 302, error_summary(booked)
    plan_url = booked.headers["Location"]
    with demo.app_context():
        plan = db.session.scalars(select(TreatmentPlan)).one()
        assert (plan.review_points, plan.allow_other_practitioner) == ("2,4", True)
        sent = db.session.scalars(select(OutboxMessage.kind)).all()
        assert sent.count("plan.booked") == 1
        assert "appointment.confirmation" not in sent
        body = db.session.scalar(
            select(OutboxMessage.body_text).where(OutboxMessage.kind == "plan.booked")
        )
        manage = re.findall(r"/manage/(\S+)", body or "")
        assert len(manage) == 6

    page = client.get(plan_url).get_data(as_text=True)
    assert page.count('data-review="yes"') == 2
    assert "Review points: session 2, 4." in text(client.get(plan_url))
    second = re.search(r'<option value="(\d+)" selected>Session 2 of 6', page)
    assert second, "the first unscored review point is preselected"
    wrong = client.post(
        f"{plan_url}/outcomes",
        data={"item1": "6", "item2": "11", "item3": "4", "csrf_token": token},
    )
    assert wrong.status_code == 422
    assert "Enter a whole number from 0 to 10" in error_summary(wrong)
    scored = client.post(
        f"{plan_url}/outcomes",
        data={
            "appointment_id": second.group(1),
            "item1": "6",
            "item2": "5",
            "item3": "4",
            "csrf_token": token,
        },
    )
    assert scored.status_code == 302
    with demo.app_context():
        record = db.session.scalars(select(OutcomeRecord)).one()
        assert (record.measure, record.score, record.appointment_id) == (
            "peg3",
            5.0,
            int(second.group(1)),
        )
    page = client.get(plan_url).get_data(as_text=True)
    assert re.search(r'<option value="(\d+)" selected>Session 4 of 6', page)

    week = text(client.get("/practitioner/week?start=2027-03-29"))
    assert "Treatment plan: session 2 of 6." in week
    patient_page = text(demo.test_client().get(f"/manage/{manage[2]}"))
    assert "Session 3 of 6 of your treatment plan" in patient_page

    Clock(monkeypatch, datetime(2027, 3, 31, 7, 0, tzinfo=UTC))  # session 2's day
    desk = text(login_as("receptionist").get("/reception/"))
    assert "Session 2 of 6" in desk

    # Extend by two, then book them: appended to the same plan as sessions 7 and 8 of 8.
    Clock(monkeypatch)
    client.post(f"{plan_url}/change", data={"action": "extend", "count": "2", "csrf_token": token})
    offer = client.get(f"{plan_url}/book")
    assert offer.status_code == 200
    assert "Session 7 of 8: " in text(offer)
    html = offer.get_data(as_text=True)
    more = dict(re.findall(r'name="(session-\d)" type="radio" value="([^"]+)" checked', html))
    assert len(more) == 2
    added = client.post(f"{plan_url}/book", data={**more, "action": "book", "csrf_token": token})
    assert added.status_code == 302, error_summary(added)
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', client.get(plan_url).get_data(True)))
    assert counts == {"total": "8", "done": "0", "booked": "8", "remaining": "0"}
    with demo.app_context():
        assert db.session.scalar(select(func.count(TreatmentPlan.id))) == 1
        bodies = db.session.scalars(
            select(OutboxMessage.body_text)
            .where(OutboxMessage.kind == "plan.booked")
            .order_by(OutboxMessage.id)
        ).all()
        assert len(bodies) == 2
        assert "Session 7 of 8: " in bodies[1]
        assert "Session 8 of 8: " in bodies[1]
        assert "Session 1 of" not in bodies[1]
    done = client.get(f"{plan_url}/book")
    assert done.status_code == 302


def test_a_colleague_sees_k_of_n_for_the_session_they_take_but_no_link_to_the_plan(
    demo: Flask, mei: tuple[FlaskClient, int, int, int]
) -> None:
    client, jane, _, follow_up = mei
    first = datetime(2027, 3, 10, 11, 0, tzinfo=UTC)  # Wednesdays: Mei, then Tom
    second = datetime(2027, 3, 17, 14, 0, tzinfo=UTC)
    with demo.app_context():
        mei_row = db.session.scalar(
            select(Practitioner).where(Practitioner.display_name == "Mei Lin Chen")
        )
        tom = db.session.scalar(
            select(Practitioner).where(Practitioner.display_name == "Tom Okafor")
        )
        assert mei_row is not None
        assert tom is not None
        booked = planning.book_series(
            patient=db.session.get_one(PatientProfile, jane),
            practitioner_id=mei_row.id,
            session_type_id=follow_up,
            starts=[first, second],
            goal="Walk without knee pain",
            actor=db.session.get_one(User, mei_row.user_id),
            now=datetime(2027, 3, 1, 8, 0, tzinfo=UTC),
            base_url="http://localhost",
            clinic_name="Meridian Acupuncture",
            allow_other_practitioner=True,
            others={second: tom.id},
        )
        db.session.commit()
        plan_id, tom_email = booked.plan.id, tom.user.email
    own = client.get("/practitioner/day?date=2027-03-10").get_data(as_text=True)
    assert f'href="/practitioner/plans/{plan_id}"' in own
    colleague = demo.test_client()
    sign_in(colleague, tom_email)
    page = colleague.get("/practitioner/day?date=2027-03-17")
    assert "Session 2 of 2" in text(page)
    assert f"/practitioner/plans/{plan_id}" not in page.get_data(as_text=True)
    assert colleague.get(f"/practitioner/plans/{plan_id}").status_code == 404
