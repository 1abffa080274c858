"""'Session k of N' from one query, one email per plan change, and another practitioner's
alternative (issue 17), on both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import select

from booking.domain.errors import InvalidInput, PolicyRefused
from booking.extensions import db
from booking.models import Appointment, Location, OutboxMessage
from booking.services.booking.changes import reschedule_appointment
from booking.services.plans import progress
from booking.services.plans.sequence import sequence_of, sequence_words
from tests.conftest import count_queries, freeze_clock
from tests.factories import make_appointment, make_hours, make_patient, make_practitioner
from tests.integration.test_plans import BASE, CLINIC, NOW, World, book, ten_mondays, world

__all__ = ["world"]  # the fixture, shared with test_plans


def messages() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def events(message: OutboxMessage) -> list[tuple[str, str]]:
    assert message.ics is not None
    calendar = Calendar.from_ical(message.ics)
    return [(str(event["uid"]), str(event["status"])) for event in calendar.walk("VEVENT")]


def test_a_series_sends_one_email_listing_every_session_with_one_ics(world: World) -> None:
    rows = book(world, ten_mondays()[:6]).appointments
    db.session.commit()
    sent = messages()
    assert [m.kind for m in sent] == ["plan.booked"]
    body = sent[0].body_text
    for k in range(1, 7):
        assert f"Session {k} of 6: " in body
    assert body.count("/manage/") == 6
    assert sent[0].ics_method == "REQUEST"
    uids = [uid for uid, _ in events(sent[0])]
    assert uids == [row.ics_uid for row in rows]
    assert len(set(uids)) == 6
    # Without the secret no link can be signed, so the email has no scores line.
    assert "/scores/" not in body


def test_the_series_email_links_the_first_session_scores_and_its_manage_page_too(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch, NOW)
    rows = book(world, ten_mondays()[:3], secret=app.config["SECRET_KEY"]).appointments
    db.session.commit()
    body = messages()[0].body_text
    first = min(rows, key=lambda row: row.starts_at)
    assert f"{BASE}/scores/{first.id}/" in body
    assert body.count("/scores/") == 1
    # Each session's own manage page links to its scores (the patient has no account).
    manage = [line.split(BASE)[1] for line in body.splitlines() if f"{BASE}/manage/" in line]
    with app.test_client() as client:
        page = client.get(manage[1])
        assert page.status_code == 200
        second = sorted(rows, key=lambda row: row.starts_at)[1]
        assert f"/scores/{second.id}/" in page.get_data(as_text=True)


def test_pause_and_cancel_email_once_and_keep_counts(world: World) -> None:
    starts = ten_mondays()[:6]
    plan = book(world, starts).plan
    db.session.commit()
    after_two = starts[1] + timedelta(days=1)
    progress.pause_plan(
        plan,
        reason="Flare-up at work",
        actor=world.desk,
        now=after_two,
        base_url=BASE,
        clinic=CLINIC,
    )
    db.session.commit()
    paused = [m for m in messages() if m.kind != "plan.booked"]
    assert [m.kind for m in paused] == ["plan.paused"]
    assert "Flare-up" not in paused[0].body_text  # free text may be clinical: not emailed
    assert paused[0].ics_method == "CANCEL"
    assert [status for _, status in events(paused[0])] == ["CANCELLED"] * 4
    ids = [s.appointment.id for s in progress.plan_sessions(plan)]
    assert sequence_of(ids) == {ids[0]: (1, 6, plan.id), ids[1]: (2, 6, plan.id)}

    progress.resume_plan(plan, actor=world.desk, now=after_two)
    progress.extend_plan(plan, count=2, actor=world.desk, now=after_two)
    db.session.commit()
    assert sequence_of(ids)[ids[1]] == (2, 8, plan.id)
    progress.cancel_plan(
        plan, reason="Moved", actor=world.desk, now=after_two, base_url=BASE, clinic=CLINIC
    )
    db.session.commit()
    # Nothing left to cancel: no second cancellation email.
    assert [m.kind for m in messages()] == ["plan.booked", "plan.paused"]
    assert progress.progress(plan) == progress.Progress(8, 0, 2, 6)


def test_sequences_come_from_two_queries_and_match_the_plan_page(app: Flask, world: World) -> None:
    first = book(world, ten_mondays()[:4]).plan
    other = make_patient(given_name="Ola")
    world.patient = other
    later = [s + timedelta(hours=2) for s in ten_mondays()[:3]]
    second = book(world, later).plan
    db.session.commit()
    ids = [s.appointment.id for plan in (first, second) for s in progress.plan_sessions(plan)]
    loose = make_appointment(starts_at=ten_mondays()[8], practitioner=world.mei)
    db.session.commit()
    wanted = [*ids, loose.id]
    with count_queries(app) as statements:
        numbers = sequence_of(wanted)
    # The plans touched, then their sessions by plan id (never one query with the plans as a
    # subquery: PostgreSQL scanned every appointment for it at chain size, issue 22).
    assert len(statements) == 2
    assert "IN (SELECT" not in statements[1].upper().replace("\n", " ")
    with count_queries(app) as alone:
        assert sequence_of([loose.id]) == {}
    assert len(alone) == 1  # no plan touched: nothing more to read
    expected = {
        s.appointment.id: (s.sequence, s.of, plan.id)
        for plan in (first, second)
        for s in progress.plan_sessions(plan)
    }
    assert numbers == expected
    assert sequence_words(numbers[ids[0]]) == "Session 1 of 4"
    assert sequence_words(numbers.get(loose.id)) is None


def test_rescheduling_one_session_renumbers_without_touching_the_others(world: World) -> None:
    starts = ten_mondays()[:4]
    rows = book(world, starts).appointments
    db.session.commit()
    before = {row.id: row.starts_at for row in rows}
    # Session 2 moves to the Thursday after session 3: it becomes session 3.
    reschedule_appointment(
        rows[1],
        starts_at=starts[2] + timedelta(days=3),
        hold_owner="test",
        now=NOW,
        actor=world.desk,
        by_staff=True,
        base_url=BASE,
        clinic_name=CLINIC,
    )
    db.session.commit()
    numbers = sequence_of([row.id for row in rows])
    assert [numbers[row.id][0] for row in rows] == [1, 3, 2, 4]
    assert all(numbers[row.id][1] == 4 for row in rows)
    for row in (rows[0], rows[2], rows[3]):
        assert db.session.get_one(Appointment, row.id).starts_at == before[row.id]
    change = [m for m in messages() if m.kind == "appointment.change"]
    assert len(change) == 1
    assert "This is session 3 of 4 of your treatment plan." in change[0].body_text


def test_another_practitioner_takes_a_session_only_when_the_plan_allows(world: World) -> None:
    starts = ten_mondays()[:3]
    tom = make_practitioner(display_name="Tom Okafor", session_types=[world.session_type])
    make_hours(practitioner=tom, location=db.session.scalars(select(Location)).one())
    make_appointment(starts_at=starts[2], practitioner=world.mei, session_type=world.session_type)
    db.session.commit()
    with pytest.raises(InvalidInput):
        book(world, starts, others={starts[2]: tom.id})
    db.session.rollback()
    booked = book(world, starts, others={starts[2]: tom.id}, allow_other_practitioner=True)
    db.session.commit()
    assert [row.practitioner_id for row in booked.appointments] == [
        world.mei.id,
        world.mei.id,
        tom.id,
    ]
    assert booked.plan.practitioner_id == world.mei.id
    assert booked.plan.allow_other_practitioner
    numbers = sequence_of([row.id for row in booked.appointments])
    assert [numbers[row.id][:2] for row in booked.appointments] == [(1, 3), (2, 3), (3, 3)]


def test_extended_sessions_are_appended_to_the_same_plan(world: World) -> None:
    starts = ten_mondays()
    plan = book(world, starts[:3]).plan
    progress.extend_plan(plan, count=2, actor=world.desk, now=NOW)
    db.session.commit()
    with pytest.raises(InvalidInput):
        book(world, starts[3:6], plan=plan)  # three, but only two are left to book
    db.session.rollback()
    added = book(world, starts[3:5], plan=plan).appointments
    db.session.commit()
    assert {row.id for row in added} <= {s.appointment.id for s in progress.plan_sessions(plan)}
    numbers = sequence_of([row.id for row in added])
    assert [numbers[row.id] for row in added] == [(4, 5, plan.id), (5, 5, plan.id)]
    assert progress.progress(plan) == progress.Progress(5, 0, 5, 0)
    appended = [m for m in messages() if m.kind == "plan.booked"][-1]
    assert "Session 4 of 5: " in appended.body_text
    assert "Session 1 of 5" not in appended.body_text
    progress.pause_plan(
        plan, reason="Away", actor=world.desk, now=NOW, base_url=BASE, clinic=CLINIC
    )
    progress.extend_plan(plan, count=1, actor=world.desk, now=NOW)
    with pytest.raises(PolicyRefused):
        book(world, starts[5:6], plan=plan)
