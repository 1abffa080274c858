"""PostgreSQL: two writes of several appointments that lock stamp rows in opposite orders.

The triggers of 20261207_s22cache_versions bump the availability stamps in the writer's own
transaction, locking each stamp row until commit in the order the rows are written. Two plan
series booked at the same moment with their sessions in two rooms in opposite order each
held one room's stamp and waited for the other's; the deadlock detector failed one, a 503.
A multi-scope write now locks its stamp rows first, in one order (`lock_stamps`).

The interleaving is made, not hoped for: a test trigger (after the stamp trigger) stops
each series after its first session's stamps are locked, until the test opens the gate
once both writers wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, func, select, text

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, PatientProfile, Role, RoomKind, User
from booking.services.plans import planning
from tests.conftest import make_app
from tests.factories import (
    make_appointment,
    make_hours,
    make_location,
    make_patient,
    make_practitioner,
    make_room,
    make_session_type,
    make_user,
)

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2027, 9, 20)
NOW = datetime(2027, 9, 1, 8, 0, tzinfo=UTC)
GATE = 22_0522  # the advisory lock key of the test's gate
GATE_TRIGGER = "zz_stamp_deadlock_gate"  # fires after availability_version_bump (by name)


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, clock(hour), tzinfo=LONDON).astimezone(UTC)


@dataclass
class Setup:
    session_type_id: int
    desk_id: int
    # (practitioner id, patient id, starts): each series books its first start in one room
    # and its second in the other, the two series in opposite orders.
    series: list[tuple[int, int, list[datetime]]]
    taken: int  # the third practitioner's sessions


@pytest.fixture
def pg_app(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    with make_app("postgresql", tmp_path, request) as application:
        yield application


@pytest.fixture(params=["new room stamp", "all stamps exist"])
def setup(pg_app: Flask, request: pytest.FixtureRequest) -> Setup:
    """Rooms A and B; a third practitioner's sessions fill room A on Monday 10:00 and
    Tuesday 09:00, so the first free room (by sort order) is A, B for the first series
    (Monday 09:00, Tuesday 09:00) and B, A for the second (Monday 10:00, Tuesday 10:00).

    Room B's stamp row is made by the series themselves (each waits for the other's
    insert), or exists already (each waits for the other's row lock)."""
    tuesday = MONDAY + timedelta(days=1)
    with pg_app.app_context():
        location = make_location()
        room_a = make_room(location=location, sort_order=1)
        room_b = make_room(location=location, sort_order=2)
        session_type = make_session_type(room_kind=RoomKind.treatment)
        people = [make_practitioner(session_types=[session_type]) for _ in range(3)]
        for person in people:
            make_hours(practitioner=person, location=location)
        taken = [(at(MONDAY, 10), room_a.id), (at(tuesday, 9), room_a.id)]
        if request.param == "all stamps exist":
            taken.append((at(MONDAY + timedelta(days=2), 9), room_b.id))
        for start, room_id in taken:
            make_appointment(
                starts_at=start,
                practitioner=people[2],
                location=location,
                session_type=session_type,
                room_id=room_id,
                room_place=1,
            )
        desk: User = make_user(role=Role.receptionist)
        patients: list[PatientProfile] = [make_patient(), make_patient()]
        db.session.commit()
        return Setup(
            session_type.id,
            desk.id,
            [
                (people[0].id, patients[0].id, [at(MONDAY, 9), at(tuesday, 9)]),
                (people[1].id, patients[1].id, [at(MONDAY, 10), at(tuesday, 10)]),
            ],
            len(taken),
        )


def test_two_series_in_rooms_in_opposite_orders_do_not_deadlock(
    pg_app: Flask, setup: Setup
) -> None:
    url = pg_app.config["SQLALCHEMY_DATABASE_URI"]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    gate_keeper = admin.connect()
    gate_keeper.execute(text("SELECT pg_advisory_lock(:k)"), {"k": GATE})
    firsts = ", ".join(f"'{starts[0].isoformat()}'::timestamptz" for _, _, starts in setup.series)
    with admin.connect() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION stamp_deadlock_gate() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN PERFORM pg_advisory_xact_lock_shared({GATE}); RETURN NULL; END $$"
            )
        )
        conn.execute(
            text(
                f"CREATE TRIGGER {GATE_TRIGGER} AFTER INSERT ON appointment FOR EACH ROW "
                f"WHEN (NEW.starts_at IN ({firsts})) EXECUTE FUNCTION stamp_deadlock_gate()"
            )
        )
    errors: list[BaseException] = []
    try:
        writers = [
            threading.Thread(target=_book, args=(pg_app, setup, index, errors.append))
            for index in range(2)
        ]
        for writer in writers:
            writer.start()
        try:
            # Both writers wait: at the gate (each holding its first room's stamp), or, once
            # stamps are locked in one order, one at the gate and one for the other's lock.
            _until_waiting(admin, count=2)
        finally:
            gate_keeper.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": GATE})
            for writer in writers:
                writer.join(timeout=60)
        assert not any(writer.is_alive() for writer in writers)
        assert errors == []
        with pg_app.app_context():
            booked = db.session.scalar(
                select(func.count(Appointment.id)).where(
                    Appointment.status == AppointmentStatus.booked
                )
            )
        assert booked == len(setup.series) * 2 + setup.taken  # both series and the others
    finally:
        gate_keeper.close()
        with admin.connect() as conn:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {GATE_TRIGGER} ON appointment"))
            conn.execute(text("DROP FUNCTION IF EXISTS stamp_deadlock_gate()"))
        admin.dispose()


def _book(app: Flask, setup: Setup, index: int, failed: Callable[[BaseException], None]) -> None:
    """Book series `index` in its own app context (its own session and connection)."""
    practitioner_id, patient_id, starts = setup.series[index]
    with app.app_context():
        try:
            # A deadlock is found in 100 ms, not the default second.
            db.session.execute(text("SET LOCAL deadlock_timeout = '100ms'"))
            planning.book_series(
                patient=db.session.get_one(PatientProfile, patient_id),
                practitioner_id=practitioner_id,
                session_type_id=setup.session_type_id,
                starts=starts,
                goal="Less neck pain",
                actor=db.session.get_one(User, setup.desk_id),
                now=NOW,
                base_url="http://127.0.0.1:5000",
                clinic_name="Meridian",
            )
            db.session.commit()
        except BaseException as error:  # reported to the test's thread
            db.session.rollback()
            failed(error)
        finally:
            db.session.remove()


def _until_waiting(admin: Engine, *, count: int) -> None:
    """Until `count` sessions of this database wait on a lock (at most 20 s)."""
    probe = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database()"
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with admin.connect() as conn:
            if conn.execute(probe).scalar() == count:
                return
        time.sleep(0.02)
    raise AssertionError(f"{count} writers never waited together")
