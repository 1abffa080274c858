"""The busiest pages run as many queries for 1 row as for 10 (issue 22): no N+1 creeps back.

Each test opens a page once (per-process caches warm), adds 1 row and counts the page's
statements, adds 9 more rows and counts again. Rows vary practitioner, location and session
type where the page shows them, so a per-row lazy load cannot hide behind the identity map.
The week view, the reception day sheet and the API lists have their own counts in
test_practitioner_calendar.py, test_desk.py and test_api.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    Location,
    OutcomeRecord,
    PatientProfile,
    PlanAppointment,
    PlanPhase,
    Practitioner,
    SessionType,
    TreatmentPlan,
)
from tests.conftest import count_queries
from tests.factories import make_appointment, make_patient
from tests.web.booking_helpers import DAY, Clock, Demo, demo_ids, post, to_check
from tests.web.test_request_fixed_cost import database_work

WEEK = date(2027, 3, 1)  # Monday; the clock stands at 8am that day (booking_helpers.NOW)
WEDNESDAY = date.fromisoformat(DAY)
# Ten follow-ups (30 min + 5 min after) inside Mei's Wednesday hours, 9am-1pm and 2pm-6pm GMT.
STARTS = [time(9), time(9, 40), time(10, 20), time(11), time(11, 40), time(12, 20)] + [
    time(14),
    time(14, 40),
    time(15, 20),
    time(16),
]


def _at(day: date, wall: time) -> datetime:
    return datetime.combine(day, wall, tzinfo=UTC)  # London is on GMT in March


def _same_count(
    app: Flask, page: Callable[[], str], add: Callable[[int, int], None], *, few: int = 1
) -> str:
    """Count `page`'s statements after rows 0..few-1, then after rows up to 9, were added.

    `few` is 2 where the page lists past and coming rows apart: one of each, so the second
    count adds rows to lists that were already loaded. Returns the last page.
    """
    page()  # warm whatever the app keeps per process
    with app.app_context():
        add(0, few)
        db.session.commit()
    with count_queries(app) as before:
        page()
    with app.app_context():
        add(few, 10)
        db.session.commit()
    with count_queries(app) as many:
        html = page()
    assert len(many) == len(before), "\n\n".join(many)
    return html


def _get(client: FlaskClient, path: str) -> Callable[[], str]:
    def page() -> str:
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)

    return page


def _models(ids: Demo) -> tuple[Practitioner, Location, SessionType]:
    return (
        db.session.get_one(Practitioner, ids.mei),
        db.session.get_one(Location, ids.islington),
        db.session.get_one(SessionType, ids.follow_up),
    )


@pytest.fixture
def ids(demo: Flask, monkeypatch: pytest.MonkeyPatch) -> Demo:
    Clock(monkeypatch)
    return demo_ids(demo)


def _mei_sessions(ids: Demo, day_of: Callable[[int], date]) -> Callable[[int, int], None]:
    """Mei's follow-ups at Islington: session n on day_of(n) at STARTS[n]."""

    def add(first: int, last: int) -> None:
        mei, islington, follow_up = _models(ids)
        for n in range(first, last):
            make_appointment(
                starts_at=_at(day_of(n), STARTS[n]),
                practitioner=mei,
                location=islington,
                session_type=follow_up,
            )

    return add


def _to_day_step(client: FlaskClient, ids: Demo) -> None:
    assert client.get("/book?type=follow-up-acupuncture").status_code == 302
    assert post(client, "/book/location", {"location": str(ids.islington)}).status_code == 303
    assert post(client, "/book/practitioner", {"practitioner": str(ids.mei)}).status_code == 303


def test_booking_day_step(demo: Flask, ids: Demo) -> None:
    client = demo.test_client()
    _to_day_step(client, ids)
    # Sessions spread over the shown week (Wednesday to Friday, each at its own time).
    add = _mei_sessions(ids, lambda n: WEEK + timedelta(days=2 + n % 3))
    html = _same_count(demo, _get(client, f"/book/day?week={WEEK.isoformat()}"), add)
    assert "Choose a day" in html


def test_booking_time_step(demo: Flask, ids: Demo) -> None:
    client = demo.test_client()
    _to_day_step(client, ids)
    assert post(client, "/book/day", {"day": DAY}).status_code == 303
    add = _mei_sessions(ids, lambda _n: WEDNESDAY)
    html = _same_count(demo, _get(client, f"/book/time?day={DAY}"), add)
    assert "Choose a time" in html


@pytest.mark.parametrize("anyone", [False, True], ids=["one practitioner", "any practitioner"])
def test_availability_api(demo: Flask, ids: Demo, anyone: bool) -> None:
    who = "" if anyone else f"&practitioner_id={ids.mei}"
    path = (
        f"/api/v1/availability?session_type_id={ids.follow_up}&location_id={ids.islington}"
        f"&from={WEEK.isoformat()}&to={(WEEK + timedelta(days=6)).isoformat()}{who}"
    )
    add = _mei_sessions(ids, lambda n: WEEK + timedelta(days=2 + n % 3))
    _same_count(demo, _get(demo.test_client(), path), add)


def test_patient_search(demo: Flask, login_as: Callable[[str], FlaskClient]) -> None:
    reception = login_as("receptionist")

    def add(first: int, last: int) -> None:
        for n in range(first, last):
            make_patient(
                given_name=f"Robin{'abcdefghij'[n]}",
                family_name="Quillfeather",
                date_of_birth=date(1980, 1, 1 + n),
                phone=f"+4479460000{n:02d}",
            )

    search = _get(reception, "/reception/patients?q=quillfeather")
    html = _same_count(demo, search, add)
    assert html.count("Quillfeather") >= 10
    with count_queries(demo) as statements:
        search()
    # The session row (read once, issue 22), the user, the clinic's zone, the desk's regions,
    # then the search itself: a page of patients and its count.
    assert len(statements) == 7, "\n\n".join(statements)


def test_patient_account(demo: Flask, ids: Demo, login_as: Callable[[str], FlaskClient]) -> None:
    patient = login_as("patient")
    practitioners = (ids.mei, ids.tom, ids.sam, ids.aoife)
    locations = (ids.islington, ids.dublin)
    types = (ids.follow_up, ids.first_type, ids.community_type)

    def add(first: int, last: int) -> None:
        alex = db.session.get_one(PatientProfile, ids.patient)
        for n in range(first, last):
            # Past (even n) and coming (odd n) sessions, each with its own practitioner,
            # place and type.
            weeks = n + 1 if n % 2 else -n - 1
            make_appointment(
                starts_at=_at(WEEK + timedelta(weeks=weeks), time(10 + n % 6)),
                practitioner=db.session.get_one(Practitioner, practitioners[n % 4]),
                location=db.session.get_one(Location, locations[n % 2]),
                session_type=db.session.get_one(SessionType, types[n % 3]),
                patient=alex,
                status="booked" if n % 2 else "completed",
            )

    _same_count(demo, _get(patient, "/patient/"), add, few=2)


def test_plan_page(demo: Flask, ids: Demo, login_as: Callable[[str], FlaskClient]) -> None:
    mei_client = login_as("practitioner")
    with demo.app_context():
        mei, islington, follow_up = _models(ids)
        jane = make_patient(given_name="Jane", family_name="Planned")
        plan = TreatmentPlan(
            patient_id=jane.id,
            practitioner_id=mei.id,
            location_id=islington.id,
            goal="Less back pain",
            status="active",
            review_points="3,6",
        )
        db.session.add(plan)
        db.session.flush()
        db.session.add(
            PlanPhase(
                plan_id=plan.id,
                session_type_id=follow_up.id,
                count=12,
                interval_weeks=1,
                weekday=2,
                local_time=time(10),
            )
        )
        db.session.commit()
        plan_id, jane_id = plan.id, jane.id

    def add(first: int, last: int) -> None:
        mei, islington, follow_up = _models(ids)
        jane = db.session.get_one(PatientProfile, jane_id)
        for n in range(first, last):
            # Completed sessions with a score (even n) and coming ones (odd n), weekly.
            weeks = n + 1 if n % 2 else -n - 1
            when = _at(WEDNESDAY + timedelta(weeks=weeks), time(10))
            session = make_appointment(
                starts_at=when,
                practitioner=mei,
                location=islington,
                session_type=follow_up,
                patient=jane,
                status="booked" if n % 2 else "completed",
            )
            db.session.add(PlanAppointment(appointment_id=session.id, plan_id=plan_id))
            if not n % 2:
                db.session.add(
                    OutcomeRecord(
                        plan_id=plan_id,
                        appointment_id=session.id,
                        measure="pain_nrs",
                        item1=8 - n,
                        score=float(8 - n),
                        recorded_at=when + timedelta(minutes=30),
                    )
                )
        db.session.flush()

    html = _same_count(demo, _get(mei_client, f"/practitioner/plans/{plan_id}"), add, few=2)
    assert "Less back pain" in html
    with demo.app_context():
        linked = db.session.scalars(
            select(PlanAppointment).where(PlanAppointment.plan_id == plan_id)
        )
        assert len(list(linked)) == 10


# Statements a warm GET of each journey step runs (BEGIN aside): one read of the draft, the
# reference version and the hold together; the availability stamps on the day and time
# pickers (on PostgreSQL in that same read: `_expected`). Session types, places, the
# clinic's policy, the practitioner list and (on check answers) the held practitioner and
# the place's change policy come from the worker's copies (issue 22).
JOURNEY_STATEMENTS = {
    "/book/type": 1,
    "/book/location": 1,
    "/book/practitioner": 1,
    # (The following weeks: in this test the window starting on the frozen clock's own day
    # is computed again on each request, a matter of the availability cache.)
    "/book/day?week=2027-03-08": 2,
    f"/book/time?day={DAY}": 2,
    "/book/returning": 1,
    "/book/name": 1,
    "/book/date-of-birth": 1,
    "/book/contact": 1,
    "/book/contact-preference": 1,
    "/book/safety": 1,
    "/book/check": 1,
}


def _expected(app: Flask) -> dict[str, int]:
    """On PostgreSQL the pickers read their stamps with the draft (booking/book/journey.py)."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return JOURNEY_STATEMENTS
    return dict.fromkeys(JOURNEY_STATEMENTS, 1)


def test_journey_steps_statement_counts(demo: Flask, ids: Demo) -> None:
    client = demo.test_client()
    to_check(client, ids)
    found = {}
    for path in JOURNEY_STATEMENTS:
        _get(client, path)()  # warm
        with count_queries(demo) as statements:
            _get(client, path)()
        found[path] = len(statements)
    assert found == _expected(demo)


def test_journey_steps_read_without_a_transaction(demo: Flask, ids: Demo) -> None:
    """Each statement of a warm step's GET runs on its own: no BEGIN, and on PostgreSQL
    no ROLLBACK either, so one round trip a statement (five on the later steps before)."""
    client = demo.test_client()
    to_check(client, ids)
    postgres = demo.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    # Warm, and past psycopg's prepare threshold (5 runs of a statement: the 6th sends its
    # Parse once, a round trip of its own that later requests do not pay).
    for _ in range(4):
        for path in JOURNEY_STATEMENTS:
            _get(client, path)()
    found, trips = {}, {}
    for path in JOURNEY_STATEMENTS:
        with database_work(demo) as work:
            _get(client, path)()
        found[path] = work["statements"]  # BEGIN included (SQLite)
        trips[path] = work["round_trips"] if postgres else work["statements"]
    assert found == _expected(demo)
    assert trips == _expected(demo)
