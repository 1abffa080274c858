"""Plan series booking, "session k of N", pause/extend/cancel and outcomes, on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from booking.domain.errors import InvalidInput, NotFound, SeriesConflict
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    OutcomeMeasure,
    PatientProfile,
    PlanAppointment,
    Practitioner,
    Role,
    SessionType,
    TreatmentPlan,
    User,
)
from booking.services.plans import planning, progress
from tests.factories import (
    make_appointment,
    make_hours,
    make_location,
    make_patient,
    make_practitioner,
    make_session_type,
    make_user,
)

LONDON = ZoneInfo("Europe/London")
FIRST = date(2027, 9, 20)  # Monday; ten weeks cross the end of BST on 31 October 2027
NOW = datetime(2027, 9, 1, 8, 0, tzinfo=UTC)
BASE = "http://127.0.0.1:5000"
CLINIC = "Meridian Acupuncture"


@dataclass
class World:
    mei: Practitioner
    mei_user: User
    session_type: SessionType
    patient: PatientProfile
    desk: User


@pytest.fixture
def world(app: Flask) -> Iterator[World]:
    with app.app_context():
        location = make_location()
        session_type = make_session_type()
        mei = make_practitioner(display_name="Mei Lin Chen", session_types=[session_type])
        make_hours(practitioner=mei, location=location)
        desk = make_user(role=Role.receptionist)
        patient = make_patient()
        db.session.commit()
        yield World(mei, mei.user, session_type, patient, desk)


def ten_mondays() -> list[datetime]:
    return [
        datetime.combine(FIRST + timedelta(weeks=k), time(10), tzinfo=LONDON).astimezone(UTC)
        for k in range(10)
    ]


def book(world: World, starts: list[datetime], **extra: Any) -> planning.BookedSeries:
    return planning.book_series(
        patient=world.patient,
        practitioner_id=world.mei.id,
        session_type_id=world.session_type.id,
        starts=starts,
        goal="Less low back pain",
        actor=world.desk,
        now=NOW,
        base_url=BASE,
        clinic_name=CLINIC,
        **extra,
    )


def counts() -> tuple[int, int]:
    plans = db.session.scalar(select(func.count(TreatmentPlan.id)))
    rows = db.session.scalar(
        select(func.count(Appointment.id)).where(Appointment.status != AppointmentStatus.held)
    )
    return plans or 0, rows or 0


def test_proposal_and_series_keep_ten_local_and_number_the_sessions(world: World) -> None:
    proposal = planning.propose_plan(
        session_type_id=world.session_type.id,
        practitioner_id=world.mei.id,
        first_date=FIRST,
        wall_time=time(10),
        count=10,
        interval_weeks=1,
        actor=world.mei_user,
        now=NOW,
    )
    assert [s.occurrence.starts_at for s in proposal.sessions] == ten_mondays()
    assert all(s.free for s in proposal.sessions)

    booked = book(world, ten_mondays())
    db.session.commit()
    sessions = progress.plan_sessions(booked.plan)
    assert [(s.sequence, s.of) for s in sessions] == [(k, 10) for k in range(1, 11)]
    assert {s.appointment.starts_at.astimezone(LONDON).strftime("%H:%M") for s in sessions} == {
        "10:00"
    }
    assert progress.progress(booked.plan) == progress.Progress(10, 0, 10, 0)


def test_a_taken_start_refuses_the_whole_series_and_lists_it(world: World) -> None:
    starts = ten_mondays()
    make_appointment(starts_at=starts[6], practitioner=world.mei, session_type=world.session_type)
    db.session.commit()
    before = counts()
    with pytest.raises(SeriesConflict) as refused:
        book(world, starts)
    assert refused.value.conflicts == [starts[6]]
    db.session.rollback()
    assert counts() == before


def test_a_race_lost_between_check_and_insert_leaves_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer takes the 7th start after the check: the guard refuses, all is rolled back."""
    starts = ten_mondays()
    checked = planning._checked_series
    calls: list[int] = []

    def check_then_lose(**kwargs: Any) -> Any:
        result = checked(**kwargs)
        if not calls:
            make_appointment(
                starts_at=starts[6], practitioner=world.mei, session_type=world.session_type
            )
        calls.append(1)
        return result

    monkeypatch.setattr(planning, "_checked_series", check_then_lose)
    plans_before, _ = counts()
    with pytest.raises(SeriesConflict) as refused:
        book(world, starts)
    assert refused.value.conflicts == [starts[6]]
    plans_after, rows_after = counts()
    assert plans_after == plans_before
    assert rows_after == 1  # only the winner's row
    assert db.session.scalar(select(func.count()).select_from(PlanAppointment)) == 0


def test_pause_extend_cancel_keep_counts_right(world: World) -> None:
    starts = ten_mondays()[:6]
    plan = book(world, starts).plan
    sessions = progress.plan_sessions(plan)
    sessions[0].appointment.status = AppointmentStatus.completed
    sessions[1].appointment.status = AppointmentStatus.completed
    db.session.commit()
    assert progress.progress(plan) == progress.Progress(6, 2, 4, 0)

    after_two = starts[1] + timedelta(days=1)
    with pytest.raises(InvalidInput):
        progress.pause_plan(
            plan, reason=" ", actor=world.desk, now=after_two, base_url=BASE, clinic=CLINIC
        )
    cancelled = progress.pause_plan(
        plan,
        reason="Away travelling",
        actor=world.desk,
        now=after_two,
        base_url=BASE,
        clinic=CLINIC,
    )
    db.session.commit()
    assert cancelled == 4
    assert plan.status == "paused"
    assert progress.progress(plan) == progress.Progress(6, 2, 0, 4)
    reasons = {s.appointment.cancel_reason for s in progress.plan_sessions(plan)[2:]}
    assert reasons == {"Plan paused: Away travelling"}

    progress.resume_plan(plan, actor=world.desk, now=after_two)
    progress.extend_plan(plan, count=4, actor=world.desk, now=after_two)
    db.session.commit()
    assert progress.progress(plan) == progress.Progress(10, 2, 0, 8)
    # "k of N": the completed sessions keep 1 and 2, now of 10.
    numbered = [(s.sequence, s.of) for s in progress.plan_sessions(plan) if s.sequence]
    assert numbered == [(1, 10), (2, 10)]

    progress.cancel_plan(
        plan, reason="Moved away", actor=world.desk, now=after_two, base_url=BASE, clinic=CLINIC
    )
    db.session.commit()
    assert plan.status == "cancelled"
    assert progress.progress(plan) == progress.Progress(10, 2, 0, 8)


def test_outcomes_score_and_access(world: World) -> None:
    plan = book(world, ten_mondays()[:3]).plan
    first = progress.plan_sessions(plan)[0].appointment
    pain = progress.record_outcome(
        plan,
        measure=OutcomeMeasure.pain_nrs,
        items=[7],
        actor=world.mei_user,
        now=NOW,
        appointment_id=first.id,
    )
    peg = progress.record_outcome(
        plan, measure=OutcomeMeasure.peg3, items=[6, 5, 5], actor=world.mei_user, now=NOW
    )
    assert (pain.score, peg.score) == (7.0, 5.3)
    with pytest.raises(InvalidInput):
        progress.outcome_score(OutcomeMeasure.peg3, [1, 11, 2])
    assert progress.plan_for(plan.id, actor=world.mei_user) is plan
    stranger = make_practitioner(display_name="Tom").user
    with pytest.raises(NotFound):
        progress.plan_for(plan.id, actor=stranger)
