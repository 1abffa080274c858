"""Model invariants enforced by types, CHECK constraints and the overlap guards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    Location,
    Room,
    RoomKind,
    SessionType,
    User,
)
from tests.factories import make_patient, make_practitioner, make_room, make_session_type

T0 = datetime(2027, 4, 13, 9, 0, tzinfo=UTC)


def _ids() -> dict[str, Any]:
    """Two practitioners, a one-place treatment room, a 30 + 5 minute type and 3 patients."""
    room = make_room()
    session_type = make_session_type(buffer_after_minutes=5, room_kind=RoomKind.treatment)
    practitioners = [make_practitioner(session_types=[session_type]) for _ in range(2)]
    ids = {
        "practitioner_id": practitioners[0].id,
        "other_practitioner_id": practitioners[1].id,
        "location_id": room.location_id,
        "room_id": room.id,
        "session_type_id": session_type.id,
        "patient_ids": [make_patient().id for _ in range(3)],
    }
    db.session.commit()
    return ids


def _appointment(ids: dict, start: datetime, minutes: int = 30, **overrides: object) -> Appointment:
    values = {
        "status": AppointmentStatus.booked,
        "starts_at": start,
        "ends_at": start + timedelta(minutes=minutes),
        "busy_from": start,
        "busy_until": start + timedelta(minutes=minutes + 5),
        "practitioner_id": ids["practitioner_id"],
        "location_id": ids["location_id"],
        "room_id": ids["room_id"],
        "room_place": 1,
        "patient_id": ids["patient_ids"][0],
        "session_type_id": ids["session_type_id"],
        "ics_uid": f"test-{start.isoformat()}-{overrides.get('practitioner_id', 0)}-{minutes}",
    }
    values.update(overrides)
    return Appointment(**values)


def test_utc_datetime_refuses_naive_values(app: Flask) -> None:
    with app.app_context():
        user = User(
            email="naive@example.com",
            password_hash="x",
            role="admin",
            display_name="N",
            created_at=datetime(2027, 1, 1, 9, 0),  # noqa: DTZ001 - the point of the test
        )
        db.session.add(user)
        with pytest.raises(StatementError, match="naive datetime"):
            db.session.flush()


def test_utc_datetime_round_trips_as_aware_utc(app: Flask) -> None:
    with app.app_context():
        local = datetime(2027, 7, 1, 10, 30, tzinfo=UTC).astimezone()
        db.session.add(
            User(
                email="a@example.com",
                password_hash="x",
                role="admin",
                display_name="A",
                created_at=local,
            )
        )
        db.session.commit()
        db.session.expire_all()
        loaded = db.session.scalar(select(User).where(User.email == "a@example.com"))
        assert loaded.created_at.tzinfo is not None
        assert loaded.created_at == local
        assert loaded.created_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        # SQLAlchemy's own format, read by the fast path.
        ("2027-07-01 10:30:00.250000", datetime(2027, 7, 1, 10, 30, 0, 250000, tzinfo=UTC)),
        # Text written by hand or by SQL (no fraction): the general path still reads it.
        ("2027-07-01 10:30:00", datetime(2027, 7, 1, 10, 30, tzinfo=UTC)),
    ],
)
def test_utc_datetime_reads_sqlite_text_as_aware_utc(
    sqlite_app: Flask, stored: str, expected: datetime
) -> None:
    from sqlalchemy import text

    with sqlite_app.app_context():
        db.session.add(
            User(email="t@example.com", password_hash="x", role="admin", display_name="T")
        )
        db.session.flush()
        db.session.execute(
            text("UPDATE user SET created_at = :stored WHERE email = 't@example.com'"),
            {"stored": stored},
        )
        db.session.expire_all()
        loaded = db.session.scalar(select(User).where(User.email == "t@example.com"))
        assert loaded.created_at == expected
        assert loaded.created_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize("minutes", [19, 41, 50])
def test_session_type_duration_check_refuses_outside_20_to_40(app: Flask, minutes: int) -> None:
    with app.app_context():
        db.session.add(SessionType(name="Bad", slug=f"bad-{minutes}", duration_minutes=minutes))
        with pytest.raises(IntegrityError):
            db.session.flush()


@pytest.mark.parametrize("minutes", [20, 40])
def test_session_type_duration_check_accepts_bounds(app: Flask, minutes: int) -> None:
    with app.app_context():
        db.session.add(SessionType(name="Ok", slug=f"ok-{minutes}", duration_minutes=minutes))
        db.session.flush()


def test_room_capacity_check(app: Flask) -> None:
    with app.app_context():
        location = Location(name="X", slug="x", timezone="Europe/London")
        db.session.add(location)
        db.session.flush()
        db.session.add(Room(location_id=location.id, name="Too big", kind="community", capacity=13))
        with pytest.raises(IntegrityError):
            db.session.flush()


@pytest.mark.matrix("B6")
@pytest.mark.parametrize(
    ("offset", "minutes", "overrides", "refused"),
    [
        (0, 30, {}, True),  # same start, same practitioner
        (20, 30, {}, True),  # starts inside the busy range
        (35, 30, {}, False),  # starts exactly when busy_until ends: touching is fine
        (-35, 30, {}, False),  # its busy range ends exactly at the first start
        (0, 30, {"status": AppointmentStatus.cancelled}, False),  # cancelled rows do not block
        (0, 30, {"status": AppointmentStatus.no_show}, False),  # nor do no-shows
        (0, 30, {"status": AppointmentStatus.held, "patient_id": None}, True),  # holds block
    ],
)
def test_database_refuses_overlapping_live_rows_per_practitioner(
    app: Flask, offset: int, minutes: int, overrides: dict, refused: bool
) -> None:
    with app.app_context():
        ids = _ids()
        db.session.add(_appointment(ids, T0, ics_uid="first"))
        db.session.commit()
        values = {
            "room_id": None,
            "room_place": None,
            "patient_id": ids["patient_ids"][1],
            "ics_uid": "second",
            **overrides,
        }
        second = _appointment(ids, T0 + timedelta(minutes=offset), minutes, **values)
        db.session.add(second)
        if refused:
            with pytest.raises(IntegrityError):
                db.session.commit()
        else:
            db.session.commit()


@pytest.mark.matrix("B6")
def test_database_refuses_two_practitioners_in_one_room_place(app: Flask) -> None:
    with app.app_context():
        ids = _ids()
        db.session.add(_appointment(ids, T0, ics_uid="a"))
        db.session.commit()
        db.session.add(
            _appointment(
                ids,
                T0 + timedelta(minutes=10),
                practitioner_id=ids["other_practitioner_id"],
                patient_id=ids["patient_ids"][1],
                ics_uid="b",
            )
        )
        with pytest.raises(IntegrityError):
            db.session.commit()


@pytest.mark.matrix("B6")
def test_database_refuses_moving_a_row_onto_another(app: Flask) -> None:
    with app.app_context():
        ids = _ids()
        db.session.add(_appointment(ids, T0, ics_uid="a"))
        later = _appointment(
            ids, T0 + timedelta(hours=2), patient_id=ids["patient_ids"][1], ics_uid="b"
        )
        db.session.add(later)
        db.session.commit()
        later.starts_at = T0 + timedelta(minutes=10)
        later.ends_at = later.starts_at + timedelta(minutes=30)
        later.busy_from = later.starts_at
        later.busy_until = later.ends_at + timedelta(minutes=5)
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        # Un-cancelling onto a taken time is refused too.
        first = db.session.scalar(select(Appointment).where(Appointment.ics_uid == "a"))
        first.status = AppointmentStatus.cancelled
        db.session.commit()
        db.session.add(_appointment(ids, T0, patient_id=ids["patient_ids"][2], ics_uid="c"))
        db.session.commit()
        first.status = AppointmentStatus.booked
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_held_rows_have_no_patient_and_booked_rows_have_one(app: Flask) -> None:
    with app.app_context():
        ids = _ids()
        db.session.add(
            _appointment(ids, T0, status=AppointmentStatus.booked, patient_id=None, ics_uid="x")
        )
        with pytest.raises(IntegrityError):
            db.session.commit()
