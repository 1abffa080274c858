"""The patient's and reception's side of treatment plans (issue 17): the patient's plan page,
scores sent online (account and emailed link), "request a change", reception's plan page."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import (
    Appointment,
    AuditEvent,
    Location,
    OutboxMessage,
    OutcomeMeasure,
    OutcomeRecord,
    OutcomeSource,
    PatientProfile,
    PlanAppointment,
    PlanChangeRequest,
    PlanPhase,
    PlanStatus,
    Practitioner,
    SessionType,
    TreatmentPlan,
)
from booking.services.plans import patient_side
from booking.services.platform.tokens import token_hash
from tests.conftest import csrf_from
from tests.factories import make_appointment, make_patient
from tests.web.booking_helpers import NOW, Clock, error_summary, text

FIRST = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)  # a Wednesday: Mei works at Islington


@dataclass(frozen=True)
class Plans:
    mine: int  # Alex Morgan's (the demo patient account): PEG-3, 3 sessions
    other: int  # a guest's: pain 0-10, one session
    other_session: int
    other_token: str  # the guest session's manage token (the scores link derives from it)
    clock: Clock


def _plan(
    patient: PatientProfile, *, start: datetime, count: int, measure: OutcomeMeasure, tag: str
) -> tuple[TreatmentPlan, list[Appointment]]:
    mei = db.session.scalar(select(Practitioner).where(Practitioner.display_name == "Mei Lin Chen"))
    follow_up = db.session.scalar(
        select(SessionType).where(SessionType.slug == "follow-up-acupuncture")
    )
    islington = db.session.scalar(select(Location).where(Location.slug == "islington"))
    assert mei is not None
    assert follow_up is not None
    assert islington is not None
    rows = [
        make_appointment(
            starts_at=start + timedelta(weeks=k),
            practitioner=mei,
            location=islington,
            session_type=follow_up,
            patient=patient,
            manage_token_hash=token_hash(f"manage-{patient.id}-{k}"),
        )
        for k in range(count)
    ]
    plan = TreatmentPlan(
        patient_id=patient.id,
        practitioner_id=mei.id,
        location_id=islington.id,
        goal="Sit through a film",
        condition_tag=tag,
        status=PlanStatus.active,
        measure=measure,
        review_points="2",
    )
    plan.phases = [
        PlanPhase(
            position=1,
            session_type_id=follow_up.id,
            count=count,
            interval_weeks=1,
            weekday=start.weekday(),
            local_time=start.time(),
        )
    ]
    db.session.add(plan)
    db.session.flush()
    db.session.add_all(PlanAppointment(appointment_id=r.id, plan_id=plan.id) for r in rows)
    return plan, rows


@pytest.fixture
def plans(demo: Flask, monkeypatch: pytest.MonkeyPatch) -> Plans:
    with demo.app_context():
        alex = db.session.scalar(select(PatientProfile).order_by(PatientProfile.id))
        assert alex is not None
        assert alex.user_id is not None
        mine, _ = _plan(
            alex, start=FIRST, count=3, measure=OutcomeMeasure.peg3, tag="low-back-pain"
        )
        for score, days in ((7.0, 20), (5.3, 10)):
            db.session.add(
                OutcomeRecord(
                    plan_id=mine.id,
                    measure=OutcomeMeasure.peg3,
                    item1=7,
                    item2=int(score),
                    item3=7,
                    score=score,
                    recorded_at=NOW - timedelta(days=days),
                    source=OutcomeSource.practitioner,
                )
            )
        guest = make_patient(given_name="Gita", family_name="Guest")
        other, rows = _plan(
            guest,
            start=FIRST + timedelta(hours=1),
            count=1,
            measure=OutcomeMeasure.pain_nrs,
            tag="",
        )
        ids = (mine.id, other.id, rows[0].id, f"manage-{guest.id}-0")
        db.session.commit()
    clock = Clock(monkeypatch)
    return Plans(*ids, clock=clock)


def _csrf(client: FlaskClient, path: str) -> str:
    return csrf_from(client.get(path, follow_redirects=True).get_data(as_text=True))


def _audits(app: Flask, action: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )


def test_the_patient_sees_their_plan_with_sessions_chart_and_articles(
    demo: Flask, plans: Plans, login_as: Callable[[str], FlaskClient]
) -> None:
    client = login_as("patient")
    home = client.get("/patient/")
    assert f'href="/patient/plans/{plans.mine}"' in home.get_data(as_text=True)
    assert f"/patient/plans/{plans.other}" not in home.get_data(as_text=True)
    assert "session 1 of 3" in text(home)

    before = _audits(demo, "plan.read")
    page = client.get(f"/patient/plans/{plans.mine}")
    assert page.status_code == 200
    body = text(page)
    for words in ("Session 1 of 3", "Session 3 of 3", "Islington", "What to expect"):
        assert words in body
    assert "Results vary" in body
    assert "Read more" in body  # the demo's low back pain article carries the plan's tag
    html = page.get_data(as_text=True)
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)  # type: ignore[union-attr]
    table = re.search(r'id="outcome-table">.*?</table>', html, re.S).group(0)  # type: ignore[union-attr]
    assert re.findall(r'class="plan-chart-value">([0-9.]+)<', svg) == ["7", "5.3"]
    assert re.findall(r'data-score="([0-9.]+)">', table) == ["7", "5.3"]
    assert "improv" not in html.lower()
    assert _audits(demo, "plan.read") == before + 1


def test_another_patients_plan_answers_404(
    plans: Plans, login_as: Callable[[str], FlaskClient]
) -> None:
    client = login_as("patient")
    for path in ("", "/scores", "/scores/question/pain", "/scores/check", "/request-change"):
        assert client.get(f"/patient/plans/{plans.other}{path}").status_code == 404, path
    assert client.get("/patient/plans/999").status_code == 404


def test_the_patient_sends_peg3_scores_one_question_per_page(
    demo: Flask, plans: Plans, login_as: Callable[[str], FlaskClient]
) -> None:
    client = login_as("patient")
    base = f"/patient/plans/{plans.mine}/scores"
    start = client.get(base)
    assert start.status_code == 303
    assert start.headers["Location"].endswith(f"{base}/question/pain")
    token = _csrf(client, f"{base}/question/pain")

    blank = client.post(f"{base}/question/pain", data={"csrf_token": token})
    assert blank.status_code == 422
    assert "Select a number from 0 to 10" in error_summary(blank)
    wrong = client.post(f"{base}/question/pain", data={"csrf_token": token, "score": "11"})
    assert wrong.status_code == 422
    assert client.get(f"{base}/question/nonsense").status_code == 404

    answers = {"pain": "6", "enjoyment": "5", "activity": "2"}
    nexts = {"pain": "question/enjoyment", "enjoyment": "question/activity", "activity": "check"}
    for step, score in answers.items():
        sent = client.post(f"{base}/question/{step}", data={"csrf_token": token, "score": score})
        assert sent.status_code == 303, error_summary(sent)
        assert sent.headers["Location"].endswith(f"{base}/{nexts[step]}")

    check = client.get(f"{base}/check")
    html = check.get_data(as_text=True)
    assert re.findall(r'data-score="(\d+)"', html) == ["6", "5", "2"]
    assert f'href="{base}/question/enjoyment"' in html  # "Change" goes back to the question
    again = client.get(f"{base}/question/enjoyment")
    assert 'value="5" checked' in again.get_data(as_text=True)  # the answer is kept

    done = client.post(f"{base}/check", data={"csrf_token": token})
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"/patient/plans/{plans.mine}")
    with demo.app_context():
        record = db.session.scalars(
            select(OutcomeRecord).where(OutcomeRecord.source == OutcomeSource.patient)
        ).one()
        first = db.session.scalars(
            select(PlanAppointment.appointment_id)
            .join(Appointment, Appointment.id == PlanAppointment.appointment_id)
            .where(PlanAppointment.plan_id == plans.mine)
            .order_by(Appointment.starts_at)
        ).first()
        assert (record.item1, record.item2, record.item3, record.score) == (6, 5, 2, 4.3)
        assert record.appointment_id == first
    assert "Your scores have been sent" in text(client.get(f"/patient/plans/{plans.mine}"))
    reused = client.get(base)
    assert reused.status_code == 200
    assert "already been sent" in text(reused)
    replay = client.post(f"{base}/check", data={"csrf_token": token})
    assert "already been sent" in text(replay)


def test_the_emailed_link_works_once_without_an_account(demo: Flask, plans: Plans) -> None:
    with demo.app_context():
        appointment = db.session.get_one(Appointment, plans.other_session)
        link = patient_side.scores_link(appointment, base_url="", secret=demo.config["SECRET_KEY"])
        assert link is not None
    client = demo.test_client()
    assert client.get(link[:-3] + "xyz").status_code == 404  # a forged token
    stranger = demo.test_client()
    assert stranger.get(f"/scores/{plans.other_session}/question/pain").status_code == 404

    opened = client.get(link)
    assert opened.status_code == 303
    question = f"/scores/{plans.other_session}/question/pain"
    assert opened.headers["Location"].endswith(question)
    page = client.get(question)
    assert "How much pain do you have today?" in text(page)
    assert "Session 1 of 1" in text(page)
    token = csrf_from(page.get_data(as_text=True))
    bad = client.post(question, data={"csrf_token": token, "score": "ten"})
    assert bad.status_code == 422
    assert "Select a number from 0 to 10" in error_summary(bad)
    assert client.post(question, data={"csrf_token": token, "score": "3"}).status_code == 303
    # Someone else's browser cannot use this browser's answers (the draft is per browser).
    assert stranger.get(f"/scores/{plans.other_session}/check").status_code == 404
    sent = client.post(f"/scores/{plans.other_session}/check", data={"csrf_token": token})
    assert sent.status_code == 303
    assert "Scores sent" in text(client.get(sent.headers["Location"]))
    assert stranger.get(sent.headers["Location"]).status_code == 404  # not their thank-you
    with demo.app_context():
        record = db.session.scalars(select(OutcomeRecord)).all()[-1]
        assert (record.source, record.item1, record.recorded_by_id) == ("patient", 3, None)
        appointment = db.session.get_one(Appointment, plans.other_session)
        assert (
            patient_side.scores_link(appointment, base_url="", secret=demo.config["SECRET_KEY"])
            is None
        )

    again = demo.test_client().get(link)
    assert again.status_code == 200
    assert "already been sent" in text(again)
    plans.clock.advance(days=3)  # the session is over: the link has expired
    assert demo.test_client().get(link).status_code == 404


def test_a_change_request_reaches_reception(
    demo: Flask, plans: Plans, login_as: Callable[[str], FlaskClient]
) -> None:
    patient = login_as("patient")
    path = f"/patient/plans/{plans.mine}/request-change"
    token = _csrf(patient, path)
    blank = patient.post(path, data={"csrf_token": token, "message": "  "})
    assert blank.status_code == 422
    assert "Enter what you would like to change" in error_summary(blank)
    long = patient.post(path, data={"csrf_token": token, "message": "x" * 1001})
    assert long.status_code == 422
    for n in range(3):
        sent = patient.post(path, data={"csrf_token": token, "message": f"Thursdays {n}"})
        assert sent.status_code == 303
    refused = patient.post(path, data={"csrf_token": token, "message": "And Fridays"})
    assert refused.status_code == 422
    assert "Reception already has your requests" in error_summary(refused)
    assert "You asked reception for a change" in text(patient.get(f"/patient/plans/{plans.mine}"))

    desk = login_as("receptionist")
    with demo.app_context():
        alex = db.session.scalar(select(PatientProfile.id).order_by(PatientProfile.id))
        first = db.session.scalars(
            select(PlanChangeRequest.id).order_by(PlanChangeRequest.id)
        ).first()
    record = text(desk.get(f"/reception/patients/{alex}"))
    assert "3 change requests" in record
    listed = desk.get("/reception/follow-ups").get_data(as_text=True)
    assert listed.count(f'href="/reception/plans/{plans.mine}"') == 3
    plan_page = desk.get(f"/reception/plans/{plans.mine}")
    assert "Thursdays 0" in text(plan_page)
    token = csrf_from(plan_page.get_data(as_text=True))
    done = desk.post(
        f"/reception/plans/{plans.mine}/requests/{first}/done", data={"csrf_token": token}
    )
    assert done.status_code == 303
    assert "Thursdays 0" not in text(desk.get(f"/reception/plans/{plans.mine}"))
    assert (
        desk.post(
            f"/reception/plans/{plans.other}/requests/{first}/done", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert _audits(demo, "plan.change_request") == 3
    assert _audits(demo, "plan.change_request_done") == 1


def test_reception_reads_a_plan_and_records_scores_for_the_patient(
    demo: Flask, plans: Plans, login_as: Callable[[str], FlaskClient]
) -> None:
    desk = login_as("receptionist")
    with demo.app_context():
        alex = db.session.scalar(select(PatientProfile.id).order_by(PatientProfile.id))
    record = desk.get(f"/reception/patients/{alex}")
    assert f'href="/reception/plans/{plans.mine}"' in record.get_data(as_text=True)
    before = _audits(demo, "plan.read")
    page = desk.get(f"/reception/plans/{plans.mine}")
    assert page.status_code == 200
    assert "Session 2 of 3" in text(page)
    assert _audits(demo, "plan.read") == before + 1
    token = csrf_from(page.get_data(as_text=True))
    path = f"/reception/plans/{plans.mine}/scores"
    bad = desk.post(path, data={"csrf_token": token, "item1": "4", "item2": "12", "item3": ""})
    assert bad.status_code == 422
    summary = error_summary(bad)
    assert "Pain and enjoying life: enter a whole number from 0 to 10" in summary
    assert "Pain and usual activities: enter a whole number from 0 to 10" in summary
    good = desk.post(path, data={"csrf_token": token, "item1": "4", "item2": "3", "item3": "2"})
    assert good.status_code == 303
    with demo.app_context():
        row = db.session.scalars(
            select(OutcomeRecord).where(OutcomeRecord.source == OutcomeSource.reception)
        ).one()
        assert (row.score, row.plan_id) == (3.0, plans.mine)
    html = desk.get(f"/reception/plans/{plans.mine}").get_data(as_text=True)
    assert "At reception" in html
    assert desk.get("/reception/plans/999").status_code == 404


def _checked(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(session-\d)" type="radio" value="([^"]+)" checked', html))


def _counts(client: FlaskClient, path: str) -> dict[str, str]:
    return dict(re.findall(r'data-count="(\w+)">(\d+)<', client.get(path).get_data(as_text=True)))


def test_reception_books_the_rest_of_an_extended_plan_all_or_none(
    demo: Flask, plans: Plans, login_as: Callable[[str], FlaskClient]
) -> None:
    desk = login_as("receptionist")
    plan_url = f"/reception/plans/{plans.mine}"
    book_url = f"{plan_url}/book"
    assert f'href="{book_url}"' not in desk.get(plan_url).get_data(as_text=True)
    nothing = desk.get(book_url)  # all 3 sessions booked: back to the plan
    assert (nothing.status_code, nothing.headers["Location"]) == (302, plan_url)

    mei = login_as("practitioner")  # the plan's practitioner extends it by 3
    mei_token = _csrf(mei, f"/practitioner/plans/{plans.mine}")
    change = f"/practitioner/plans/{plans.mine}/change"
    extended = mei.post(change, data={"action": "extend", "count": "3", "csrf_token": mei_token})
    assert extended.status_code == 302
    assert f'href="{book_url}"' in desk.get(plan_url).get_data(as_text=True)

    offer = desk.get(book_url)
    assert offer.status_code == 200
    page = text(offer)
    assert "Treatment plan with Mei Lin Chen" in page
    assert "Session 4 of 6: " in page
    assert "Session 6 of 6: " in page
    html = offer.get_data(as_text=True)
    assert f'href="{plan_url}"' in html  # back to reception's plan page
    choices = _checked(html)
    assert len(choices) == 3
    token = csrf_from(html)

    with demo.app_context():  # someone takes session 5's time before the desk books
        taken = datetime.fromisoformat(choices["session-2"].partition("|")[0])
        mei_row = db.session.scalar(
            select(Practitioner).where(Practitioner.display_name == "Mei Lin Chen")
        )
        assert mei_row is not None
        make_appointment(
            starts_at=taken,
            practitioner=mei_row,
            location=db.session.scalar(select(Location).where(Location.slug == "islington")),
            session_type=db.session.scalar(
                select(SessionType).where(SessionType.slug == "follow-up-acupuncture")
            ),
            patient=make_patient(given_name="Quick", family_name="Caller"),
        )
        db.session.commit()
        booked_before = db.session.scalar(select(func.count(PlanAppointment.appointment_id)))
        mails_before = db.session.scalar(select(func.count(OutboxMessage.id)))

    refused = desk.post(book_url, data={**choices, "action": "book", "csrf_token": token})
    assert refused.status_code == 409
    assert "is no longer free: choose again" in error_summary(refused)
    html = refused.get_data(as_text=True)
    again = _checked(html)  # the other choices kept; session 5 to choose again, without the
    assert again == {k: v for k, v in choices.items() if k != "session-2"}  # taken time
    offered = re.findall(r'name="session-2" type="radio" value="([^"]+)"', html)
    assert choices["session-2"] not in offered
    again["session-2"] = offered[0]
    with demo.app_context():  # nothing of the series was booked, no email
        assert db.session.scalar(select(func.count(PlanAppointment.appointment_id))) == (
            booked_before
        )
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == mails_before
    assert _counts(desk, plan_url) == {"total": "6", "done": "0", "booked": "3", "remaining": "3"}

    done = desk.post(book_url, data={**again, "action": "book", "csrf_token": token})
    assert (done.status_code, done.headers["Location"]) == (302, plan_url)
    assert _counts(desk, plan_url) == {"total": "6", "done": "0", "booked": "6", "remaining": "0"}
    with demo.app_context():
        bodies = db.session.scalars(
            select(OutboxMessage.body_text).where(OutboxMessage.kind == "plan.booked")
        ).all()
        assert len(bodies) == 1  # one email for the three sessions
        assert all(f"Session {k} of 6: " in bodies[0] for k in (4, 5, 6))
        assert "Session 1 of" not in bodies[0]
        actors = db.session.scalars(
            select(AuditEvent.actor_role).where(
                AuditEvent.action == "appointment.book", AuditEvent.detail == f"plan {plans.mine}"
            )
        ).all()
        assert actors == ["receptionist"] * 3
    assert desk.get(book_url).status_code == 302  # nothing left to book

    # The practitioner's own page still books the rest of their plan.
    mei.post(change, data={"action": "extend", "count": "1", "csrf_token": mei_token})
    theirs = mei.get(f"/practitioner/plans/{plans.mine}/book")
    assert "Session 7 of 7: " in text(theirs)
    assert f'href="/practitioner/plans/{plans.mine}"' in theirs.get_data(as_text=True)
    last = _checked(theirs.get_data(as_text=True))
    token = csrf_from(theirs.get_data(as_text=True))
    own = mei.post(
        f"/practitioner/plans/{plans.mine}/book",
        data={**last, "action": "book", "csrf_token": token},
    )
    assert (own.status_code, own.headers["Location"]) == (302, f"/practitioner/plans/{plans.mine}")
    assert _counts(desk, plan_url)["booked"] == "7"
