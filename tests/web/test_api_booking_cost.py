"""What a booking POST runs (issue 22): statement counts of a booking and of a refusal, and on
SQLite the split into a read transaction and a short write transaction (db_hooks.begin_writes).

Counts, never times: a new statement in the booking path shows up here first.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from booking.api import views as api_views
from booking.extensions import db
from booking.models import (
    Appointment,
    AuditEvent,
    Clinic,
    Location,
    OutboxMessage,
    Practitioner,
    SessionType,
    WorkingHours,
)
from booking.services.booking import calendar, cutoff
from booking.services.platform.audit import verify_chain
from tests.conftest import FrozenClock, freeze_clock
from tests.factories import make_appointment
from tests.web.booking_helpers import Demo, demo_ids
from tests.web.test_api import (
    NOW,
    START,
    app_only,
    book,
    booking_body,
    make_tokens,
    statements,
)

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    return freeze_clock(monkeypatch, NOW)


@pytest.fixture
def ids(demo: Flask) -> Demo:
    return demo_ids(demo)


@pytest.fixture
def tokens(demo: Flask) -> dict[str, str]:
    return make_tokens(demo)


@pytest.fixture
def api(demo: Flask, clock: FrozenClock, tokens: dict[str, str]) -> FlaskClient:
    return demo.test_client()


def queries(seen: list[str]) -> list[str]:
    """The request's SQL, without transaction control and the rate limiter's writes."""
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "PRAGMA")
    return [s for s in app_only(seen) if not s.upper().startswith(control)]


def by_id(ids: Demo, **overrides: Any) -> dict[str, Any]:
    """A body as the pages benchmark sends it: an existing patient, the location named."""
    return booking_body(ids, patient={"id": ids.patient}, location_id=ids.islington, **overrides)


def test_a_booking_runs_a_fixed_number_of_statements(
    demo: Flask, api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    """SQLite: 10 reads (token and user in one query, patient, the slot check's 5, the
    email's practitioner, location, type and clinic in one query, expired holds in range
    with the first-visit count in one query, the slot's stamps) in a deferred read
    transaction, then 7 in the write
    transaction: stamps and first-visit count again, the INSERT, one chain read and one
    INSERT for both audit rows (the token's use, then the booking), the outbox row, and the
    token's `last_used_at` UPDATE last. PostgreSQL runs the same in one transaction (one
    COMMIT: the token's use is no longer a transaction of its own), without the second stamp
    read and count, with the lock of the slot's stamps before the INSERT (two overlapping
    inserts deadlocked in the exclusion check) and the audit chain's advisory lock before
    its read."""
    sqlite = demo.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    calendar._ics_template.cache_clear()
    with statements(demo) as seen:
        response = book(api, tokens, by_id(ids))
    assert response.status_code == 201, response.get_json()
    # The email's .ics came from the template (its times are UTC), not a full build.
    assert calendar._ics_template.cache_info().misses == 1
    run = app_only(seen)
    if sqlite:
        assert run.count("BEGIN IMMEDIATE") == 1
        locked = run[run.index("BEGIN IMMEDIATE") + 1 :]
        # The re-check's stamps are read under the lock, not before it.
        assert locked[0].startswith("SELECT availability_version"), locked
        assert len(queries(locked)) == 7, locked
        assert len(queries(run)) == 17, run
    else:
        # (The COMMITs before the token's read are the rate limiter's counters.)
        own = run[next(i for i, s in enumerate(run) if "FROM api_token" in s) :]
        assert own.count("COMMIT") == 1, run
        assert len(queries(run)) == 16, run
        stamps = next(i for i, s in enumerate(run) if s.startswith("INSERT INTO availability"))
        assert run.index(next(s for s in run if s.startswith("INSERT INTO appointment"))) > stamps
    email_rows = [s for s in run if s.startswith("SELECT practitioner.id")]
    assert len(email_rows) == 1, run
    assert "JOIN location" in email_rows[0], email_rows
    assert "JOIN session_type" in email_rows[0], email_rows
    assert "JOIN clinic" in email_rows[0], email_rows
    assert not any(s.startswith("SELECT clinic.") for s in run), run
    assert not any(s.startswith(("SELECT location.id", "SELECT session_type.id")) for s in run)
    # PostgreSQL's stamp lock is an INSERT ... ON CONFLICT that changes nothing.
    assert sum(s.upper().startswith(WRITES) for s in run) == (4 if sqlite else 5), run
    assert run[-2].startswith("UPDATE api_token"), run
    with demo.app_context():
        audit = db.session.execute(
            select(AuditEvent.action, AuditEvent.object_type).order_by(AuditEvent.id)
        ).all()
        assert [tuple(row) for row in audit[-2:]] == [
            ("api.token_used", "api_token"),
            ("appointment.book", "appointment"),
        ]
        assert verify_chain()[1] is None


def test_a_taken_time_runs_only_reads_and_on_sqlite_takes_no_write_lock(
    demo: Flask, api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    assert book(api, tokens, by_id(ids)).status_code == 201
    with demo.app_context():
        uses = db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "api.token_used")
        )
    with statements(demo) as seen:
        again = book(api, tokens, by_id(ids))
    assert again.status_code == 409
    run = app_only(seen)
    with demo.app_context():
        uses_after = db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "api.token_used")
        )
        assert verify_chain()[1] is None
    if demo.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Refused from the read transaction: no write lock, nothing written (as before, the
        # token's use is kept only with the booking it authorised).
        assert "BEGIN IMMEDIATE" not in run
        assert not any(s.upper().startswith(WRITES) for s in run), run
        # Token, patient, the slot check's 5: the clinic's name and the practitioner's row,
        # needed only for a booking's email, are not read (the slot check read that she
        # exists and is active).
        assert len(queries(run)) == 7, run
        assert not any("clinic.name" in s for s in run), run
        assert not any(s.startswith("SELECT practitioner.id") for s in run), run
        assert uses_after == uses
    else:
        # The refusal only reads; then the token's use is recorded in its own transaction
        # (advisory lock, audit chain read + insert, the token's UPDATE), as before.
        assert sum(s.upper().startswith(WRITES) for s in run) == 2, run
        assert len(queries(run)) == 11, run
        assert not any(s.startswith("SELECT practitioner.id") for s in run), run
        assert run[-2].startswith("UPDATE api_token"), run
        assert uses_after == uses + 1


def test_hours_removed_between_the_check_and_the_write_refuse_the_booking(
    demo: Flask,
    api: FlaskClient,
    ids: Demo,
    tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On SQLite the slot is checked in the read transaction; a change to what the check read
    (here the practitioner's hours, which bump her availability stamp) made before the write
    lock is taken is seen in the write transaction, which checks the slot again."""
    original = api_views._start_writes
    started: list[bool] = []

    def start_then_change_hours() -> bool:
        switched = original()
        started.append(switched)
        db.session.execute(delete(WorkingHours).where(WorkingHours.practitioner_id == ids.mei))
        return switched

    monkeypatch.setattr(api_views, "_start_writes", start_then_change_hours)
    response = book(api, tokens, by_id(ids))
    with demo.app_context():
        booked = db.session.scalar(
            select(func.count(Appointment.id)).where(Appointment.source == "api")
        )
        mail = db.session.scalar(select(func.count(OutboxMessage.id)))
        hours = db.session.scalar(
            select(func.count(WorkingHours.id)).where(WorkingHours.practitioner_id == ids.mei)
        )
        audit = db.session.scalars(select(AuditEvent.action)).all()
    if demo.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert started == [True]
        assert response.status_code == 409, response.get_json()
        assert response.get_json()["code"] == "outside_hours"
        assert (booked, mail) == (0, 0)
        assert hours > 0  # the refusal rolled the whole write transaction back
        assert "appointment.book" not in audit
    else:
        # PostgreSQL writes from the start: nothing is deferred, so there is no second check.
        assert started == []
        assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    "missing", [{}, {"location_id": 999_999}, {"session_type_id": 999_999}], ids=str
)
def test_a_practitioner_who_does_not_exist_is_named_first(
    api: FlaskClient, ids: Demo, tokens: dict[str, str], missing: dict[str, int]
) -> None:
    """The practitioner's row is read only after the slot check now; a refusal for one who
    does not exist still names her, as when she was read first, whatever else is missing."""
    body = {**by_id(ids), "practitioner_id": 999_999, **missing}
    response = book(api, tokens, body)
    assert response.status_code == 404, response.get_json()
    assert response.get_json()["detail"] == "That practitioner does not exist."


def test_a_missing_location_is_named_for_a_practitioner_who_exists(
    api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    response = book(api, tokens, {**by_id(ids), "location_id": 999_999})
    assert response.status_code == 404, response.get_json()
    assert response.get_json()["detail"] == "That location does not exist."


def test_a_booking_email_names_the_clinic_as_its_row_does(
    demo: Flask, api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    """The clinic's name comes with the email's rows (one query), not from the config."""
    with demo.app_context():
        clinic = db.session.scalar(select(Clinic).order_by(Clinic.id).limit(1))
        assert clinic is not None
        clinic.name = "Renamed Wellbeing Rooms"
        db.session.commit()
        assert demo.config["CLINIC_NAME"] != clinic.name
    response = book(api, tokens, by_id(ids))
    assert response.status_code == 201, response.get_json()
    with demo.app_context():
        message = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()[-1]
        assert message.subject.endswith("– Renamed Wellbeing Rooms"), message.subject
        assert "Renamed Wellbeing Rooms" in (message.ics or "")
        # The change sentences from the clinic row read with the email's rows are those
        # `get_clinic` gives.
        booked = db.session.get_one(Appointment, response.get_json()["id"])
        sentences = cutoff.change_sentences(booked, now=NOW)
        assert sentences
        body = " ".join(message.body_text.split())
        for sentence in sentences:
            assert " ".join(sentence.split()) in body, (sentence, body)


def test_an_expired_hold_on_the_time_is_cleared_and_the_time_booked(
    demo: Flask, api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    """The read that finds expired holds in the range (with the first-visit count) makes the
    write transaction delete them before the insert."""
    with demo.app_context():
        practitioner = db.session.get_one(Practitioner, ids.mei)
        location = db.session.get_one(Location, ids.islington)
        session_type = db.session.get_one(SessionType, ids.follow_up)
        hold = make_appointment(
            starts_at=datetime.fromisoformat(START),
            practitioner=practitioner,
            location=location,
            session_type=session_type,
            status="held",
            hold_expires_at=NOW - timedelta(minutes=1),
        )
        hold_id = hold.id
        db.session.commit()
    response = book(api, tokens, by_id(ids))
    assert response.status_code == 201, response.get_json()
    with demo.app_context():
        # (SQLite may give the booking the deleted hold's id: look for the hold itself.)
        left = db.session.scalar(
            select(func.count(Appointment.id)).where(Appointment.hold_owner == "factory-owner")
        )
        assert left == 0
        booked = db.session.get_one(Appointment, response.get_json()["id"])
        assert (booked.status, booked.practitioner_id) == ("booked", ids.mei)
        assert hold_id
