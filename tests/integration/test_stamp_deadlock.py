"""PostgreSQL: writes that took availability stamp rows (and the audit lock) in opposite orders.

The triggers of 20261207_s22cache_versions bump the availability stamps in the writer's own
transaction, locking each stamp row until commit in the order the rows are written. Two plan
series booked at the same moment with their sessions in two rooms in opposite order each
held one room's stamp and waited for the other's; so did two changes of time swapping rooms,
and two browsers re-holding into each other's rooms or practitioners (the release of the old
hold bumps its stamps before the new hold bumps its own); the deadlock detector failed one,
a 503. A multi-scope write now locks its stamp rows first,
in one order (`stamp_locks.lock_stamps`). The audit chain's advisory lock, held to commit,
comes after every stamp too: a plan pause or a check-in took it before its stamps, while a
booking takes it after.

The interleaving is made, not hoped for: a test trigger (after the stamp trigger) stops
each writer at its first stamps, until the test opens the gate once all of them wait.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import TextClause, create_engine, func, select, text

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    Location,
    PatientProfile,
    Practitioner,
    Role,
    Room,
    RoomKind,
    SessionType,
    TreatmentPlan,
    User,
)
from booking.services.api.booking import book_directly
from booking.services.booking.holds import book_hold, hold_slot
from booking.services.booking.staff_actions import (
    check_in,
    staff_appointment,
    staff_cancel,
    staff_reschedule,
)
from booking.services.plans import planning, progress
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
from tests.integration.lock_waits import until_waiting

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2027, 9, 20)
NOW = datetime(2027, 9, 1, 8, 0, tzinfo=UTC)
GATE = 22_0522  # the advisory lock key of the test's gate
GATE_TRIGGER = "zz_stamp_deadlock_gate"  # fires after availability_version_bump (by name)
BASE = "http://127.0.0.1:5000"
# A practitioner's stamp row, locked as another writer's lock_stamps would.
LOCK_STAMP = text(
    "SELECT version FROM availability_version WHERE kind = 'p' AND ref_id = :p FOR UPDATE"
)
LOCK_ROOM_STAMP = text(
    "SELECT version FROM availability_version WHERE kind = 'r' AND ref_id = :r FOR UPDATE"
)


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
        location, (room_a, room_b), session_type, people = _two_rooms_three_people()
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
    firsts = ", ".join(f"'{starts[0].isoformat()}'::timestamptz" for _, _, starts in setup.series)
    # Each series stops once its first session (and so its first room's stamp) is written.
    when = f"AFTER INSERT ON appointment FOR EACH ROW WHEN (NEW.starts_at IN ({firsts}))"

    jobs = [lambda: _book_series(setup, 0), lambda: _book_series(setup, 1)]
    assert _race(pg_app, when, jobs) == []
    with pg_app.app_context():
        booked = db.session.scalar(
            select(func.count(Appointment.id)).where(Appointment.status == AppointmentStatus.booked)
        )
    assert booked == len(setup.series) * 2 + setup.taken  # both series and the others


def test_two_changes_of_time_swapping_rooms_do_not_deadlock(pg_app: Flask) -> None:
    """X (room A) moves to a time when A is taken, so to room B; Y (room B) moves to room A.

    The UPDATE's trigger bumps the old room's stamp, then the new room's: the test stops
    each move after its first room stamp is written (a trigger on the stamp table)."""
    with pg_app.app_context():
        location, (room_a, room_b), session_type, people = _two_rooms_three_people()
        moved = []
        for person, room in ((people[0], room_a), (people[1], room_b), (people[2], room_a)):
            hour = 11 if person is people[2] else 9
            moved.append(
                make_appointment(
                    starts_at=at(MONDAY, hour),
                    practitioner=person,
                    location=location,
                    session_type=session_type,
                    room_id=room.id,
                    room_place=1,
                ).id
            )
        desk_id = make_user(role=Role.receptionist).id
        rooms = room_a.id, room_b.id
        db.session.commit()
    # X to 11:00 (A is the third practitioner's: B), Y to 14:00 (A is free).
    moves = [(moved[0], at(MONDAY, 11), rooms[1]), (moved[1], at(MONDAY, 14), rooms[0])]
    when = "AFTER INSERT OR UPDATE ON availability_version FOR EACH ROW WHEN (NEW.kind = 'r')"

    def move(index: int) -> None:
        appointment_id, starts_at, _room = moves[index]
        staff_reschedule(
            staff_appointment(appointment_id),
            starts_at=starts_at,
            actor=db.session.get_one(User, desk_id),
            now=NOW,
            base_url=BASE,
            clinic_name="Meridian",
        )

    assert _race(pg_app, when, [lambda: move(0), lambda: move(1)]) == []
    with pg_app.app_context():
        for appointment_id, starts_at, room_id in moves:
            row = db.session.get_one(Appointment, appointment_id)
            assert (row.starts_at, row.room_id) == (starts_at, room_id)


def test_two_browsers_re_holding_into_each_others_rooms_do_not_deadlock(pg_app: Flask) -> None:
    """Browser X holds Monday 9:00 in room A, Y in room B; X re-holds 11:00 (A is the third
    practitioner's: B), Y 14:00 (A is free).

    Releasing a hold bumps its practitioner's then its room's stamp, the new hold its own:
    the test stops each re-hold after its first room stamp is written (its release)."""
    with pg_app.app_context():
        location, (room_a, room_b), session_type, people = _two_rooms_three_people()
        make_appointment(
            starts_at=at(MONDAY, 11),
            practitioner=people[2],
            location=location,
            session_type=session_type,
            room_id=room_a.id,
            room_place=1,
        )
        ids = location.id, session_type.id, [person.id for person in people[:2]]
        rooms = room_a.id, room_b.id
        db.session.commit()
    location_id, session_type_id, practitioner_ids = ids

    def hold(index: int, starts_at: datetime) -> Appointment:
        return hold_slot(
            session_type_id=session_type_id,
            location_id=location_id,
            practitioner_id=practitioner_ids[index],
            starts_at=starts_at,
            hold_owner=f"browser-{index}",
            now=NOW,
        )

    with pg_app.app_context():
        assert [hold(index, at(MONDAY, 9)).room_id for index in (0, 1)] == list(rooms)
        db.session.commit()
    # X to 11:00 in room B, Y to 14:00 in room A.
    moves = [(at(MONDAY, 11), rooms[1]), (at(MONDAY, 14), rooms[0])]
    when = "AFTER INSERT OR UPDATE ON availability_version FOR EACH ROW WHEN (NEW.kind = 'r')"

    jobs = [lambda: hold(0, moves[0][0]), lambda: hold(1, moves[1][0])]
    assert _race(pg_app, when, jobs) == []
    with pg_app.app_context():
        held = db.session.execute(
            select(Appointment.hold_owner, Appointment.starts_at, Appointment.room_id)
            .where(Appointment.status == AppointmentStatus.held)
            .order_by(Appointment.hold_owner)
        ).all()
        assert [tuple(row) for row in held] == [
            (f"browser-{index}", *move) for index, move in enumerate(moves)
        ]


def test_two_browsers_re_holding_each_others_practitioners_do_not_deadlock(
    pg_app: Flask,
) -> None:
    """Browser X holds practitioner P at 9:00, Y holds Q at 10:00; X re-holds Q at 11:00,
    Y re-holds P at 12:00 (no rooms). Each stops once its release bumped its old
    practitioner's stamp, before its new hold bumps the other's."""
    with pg_app.app_context():
        location = make_location()
        session_type = make_session_type()
        people = [make_practitioner(session_types=[session_type]) for _ in range(2)]
        for person in people:
            make_hours(practitioner=person, location=location)
        ids = location.id, session_type.id, [person.id for person in people]
        db.session.commit()
    location_id, session_type_id, practitioner_ids = ids

    def hold(browser: int, practitioner: int, hour: int) -> None:
        hold_slot(
            session_type_id=session_type_id,
            location_id=location_id,
            practitioner_id=practitioner_ids[practitioner],
            starts_at=at(MONDAY, hour),
            hold_owner=f"browser-{browser}",
            now=NOW,
        )

    with pg_app.app_context():
        hold(0, 0, 9)
        hold(1, 1, 10)
        db.session.commit()
    when = "AFTER UPDATE ON availability_version FOR EACH ROW WHEN (NEW.kind = 'p')"

    assert _race(pg_app, when, [lambda: hold(0, 1, 11), lambda: hold(1, 0, 12)]) == []
    with pg_app.app_context():
        held = db.session.execute(
            select(Appointment.hold_owner, Appointment.practitioner_id, Appointment.starts_at)
            .where(Appointment.status == AppointmentStatus.held)
            .order_by(Appointment.hold_owner)
        ).all()
        assert [tuple(row) for row in held] == [
            ("browser-0", practitioner_ids[1], at(MONDAY, 11)),
            ("browser-1", practitioner_ids[0], at(MONDAY, 12)),
        ]


@pytest.mark.parametrize("setup", ["all stamps exist"], indirect=True)
def test_a_plan_paused_while_its_room_is_booked_does_not_deadlock(
    pg_app: Flask, setup: Setup
) -> None:
    """The first series' plan (rooms A then B) is paused while the second practitioner is
    booked at once (the API's booking) on Monday 10:00, in room B (A is taken then).

    The pause appends each cancel's audit row (the chain's advisory lock, held to commit)
    before the next cancel bumps its stamps; a booking bumps its stamps, then appends.
    """
    with pg_app.app_context():
        plan_id = _book_series(setup, 0).plan.id
        db.session.commit()
    when = "AFTER UPDATE ON availability_version FOR EACH ROW WHEN (NEW.kind = 'r')"
    practitioner_id, patient_id, _ = setup.series[1]

    def pause() -> None:
        _pause(plan_id, setup.desk_id)

    def book() -> None:
        _book(setup.session_type_id, practitioner_id, at(MONDAY, 10), patient_id, setup.desk_id)

    assert _race(pg_app, when, [pause, book]) == []
    with pg_app.app_context():
        statuses = db.session.scalars(
            select(Appointment.status).where(Appointment.practitioner_id != practitioner_id)
        )
        booked = db.session.scalar(
            select(Appointment.room_id).where(Appointment.practitioner_id == practitioner_id)
        )
        assert sorted(statuses).count(AppointmentStatus.cancelled) == 2
        assert booked is not None


def test_a_check_in_while_its_practitioner_is_booked_does_not_deadlock(pg_app: Flask) -> None:
    """The desk checks a patient in while the same practitioner is booked (the API's
    booking): the check-in appended its audit row (the chain's lock, held to commit) before
    its status change bumped the practitioner's stamp at the flush; the booking bumps the
    stamp, then appends."""
    with pg_app.app_context():
        location, session_type, person = _one_practitioner()
        arrived = make_appointment(
            starts_at=datetime(2027, 9, 1, 9, 0, tzinfo=UTC),
            practitioner=person,
            location=location,
            session_type=session_type,
        ).id
        ids = person.id, session_type.id, make_patient().id, make_user(role=Role.receptionist).id
        db.session.commit()
    practitioner_id, session_type_id, patient_id, desk_id = ids
    when = "AFTER INSERT ON appointment FOR EACH ROW"  # the booking, after its stamps

    def book() -> None:
        _book(session_type_id, practitioner_id, at(MONDAY, 9), patient_id, desk_id)

    def arrive() -> None:
        check_in(staff_appointment(arrived), actor=db.session.get_one(User, desk_id), now=NOW)

    assert _race(pg_app, when, [book, arrive]) == []
    with pg_app.app_context():
        statuses = db.session.scalars(
            select(Appointment.status).order_by(Appointment.starts_at)
        ).all()
        assert statuses == [AppointmentStatus.checked_in, AppointmentStatus.booked]


@pytest.mark.parametrize("change", ["cancel", "check in", "confirm a hold"])
def test_a_change_of_a_session_does_not_deadlock_with_a_writer_of_its_time(
    pg_app: Flask, change: str
) -> None:
    """The scale-out test's cancel answered 503: its UPDATE was written (so a writer of an
    overlapping row waits for it in the exclusion check), then its AFTER trigger waited for
    its practitioner's stamp, which that writer had locked first (as a move or a plan series
    does). Here the writer locks the stamp, the change starts, then the writer inserts a row
    on the same time. The change now locks its stamps before it writes: the writer is
    refused at once (the time is still live) and the change goes through."""
    with pg_app.app_context():
        location, session_type, person = _one_practitioner()
        starts = datetime(2027, 9, 1, 9, 0, tzinfo=UTC)  # NOW's day: a check-in is allowed
        changed = make_appointment(
            starts_at=starts,
            practitioner=person,
            location=location,
            session_type=session_type,
            status="held" if change == "confirm a hold" else "booked",
        ).id
        patient_id = make_patient().id
        ids = person.id, location.id, session_type.id, make_user(role=Role.receptionist).id
        db.session.commit()
    practitioner_id, location_id, session_type_id, desk_id = ids

    def change_it() -> None:
        desk = db.session.get_one(User, desk_id)
        if change == "cancel":
            staff_cancel(
                staff_appointment(changed),
                actor=desk,
                now=NOW,
                reason="Unwell",
                base_url=BASE,
                clinic_name="Meridian",
            )
        elif change == "check in":
            check_in(staff_appointment(changed), actor=desk, now=NOW)
        else:
            book_hold(
                hold_id=changed,
                hold_owner="factory-owner",
                retake={
                    "session_type_id": session_type_id,
                    "location_id": location_id,
                    "practitioner_id": practitioner_id,
                    "starts_at": starts,
                },
                patient=db.session.get_one(PatientProfile, patient_id),
                now=NOW,
                base_url=BASE,
                clinic_name="Meridian",
            )

    # The change's deadlock check runs once, a second after it starts to wait: by then the
    # writer waits too (before the fix), so the change is the one the detector fails.
    writer_errors, change_errors = _against_a_writer_of_its_time(
        pg_app, (practitioner_id, location_id, session_type_id), starts, change_it, "1s"
    )
    assert change_errors == []
    assert [getattr(getattr(error, "orig", None), "sqlstate", None) for error in writer_errors] == [
        "23P01"
    ]
    with pg_app.app_context():
        statuses = db.session.scalars(select(Appointment.status)).all()
    expected = {
        "cancel": AppointmentStatus.cancelled,
        "check in": AppointmentStatus.checked_in,
        "confirm a hold": AppointmentStatus.booked,
    }
    assert statuses == [expected[change]]


def test_a_check_in_and_a_cancel_of_one_session_do_not_deadlock(pg_app: Flask) -> None:
    """A cancel locks its row, then its stamps; a check-in must too. Here a third writer
    holds the practitioner's stamp while the check-in, then the cancel, start: the check-in
    queues first for the stamp, the cancel would hold the row. Both go through, in turn."""
    with pg_app.app_context():
        location, session_type, person = _one_practitioner()
        session_id = make_appointment(
            starts_at=datetime(2027, 9, 1, 9, 0, tzinfo=UTC),  # NOW's day: a check-in is allowed
            practitioner=person,
            location=location,
            session_type=session_type,
        ).id
        practitioner_id, desk_id = person.id, make_user(role=Role.receptionist).id
        db.session.commit()

    def arrive() -> None:
        check_in(staff_appointment(session_id), actor=db.session.get_one(User, desk_id), now=NOW)

    def cancel() -> None:
        _cancel(session_id, desk_id)

    assert _behind_a_held_stamp(pg_app, practitioner_id, [arrive, cancel]) == []
    with pg_app.app_context():
        assert db.session.get_one(Appointment, session_id).status == AppointmentStatus.cancelled


def test_a_booking_queues_for_its_stamps_before_it_writes_its_row(pg_app: Flask) -> None:
    """Two bookings of overlapping times for one practitioner at the same moment each
    inserted their row, found the other's in the exclusion check and waited for it: a
    deadlock, found only after deadlock_timeout (a second in the booking POST's tail at
    50 clients). A booking now locks its stamps before its row: here another writer holds
    the practitioner's stamp while it books the same time; the booking waits on the stamp,
    not in its INSERT, then meets the committed row (a plain 409, no deadlock)."""
    with pg_app.app_context():
        location, session_type, person = _one_practitioner()
        make_appointment(  # makes the practitioner's stamp row
            starts_at=at(MONDAY, 15),
            practitioner=person,
            location=location,
            session_type=session_type,
        )
        ids = person.id, location.id, session_type.id, make_patient().id
        desk_id = make_user(role=Role.receptionist).id
        db.session.commit()
    practitioner_id, location_id, session_type_id, patient_id = ids

    def book() -> None:
        _book(session_type_id, practitioner_id, at(MONDAY, 9), patient_id, desk_id)

    # Waiting in the stamp lock's statement, not in the INSERT of its row.
    other_errors, booking_errors = _against_a_writer_of_its_time(
        pg_app,
        (practitioner_id, location_id, session_type_id),
        at(MONDAY, 9),
        book,
        waiting_in="INSERT INTO availability_version",
    )
    assert other_errors == []
    assert [getattr(error, "code", None) for error in booking_errors] == ["taken_practitioner"]


@pytest.mark.parametrize("setup", ["all stamps exist"], indirect=True)
def test_a_session_cancelled_while_its_plan_is_paused_does_not_deadlock(
    pg_app: Flask, setup: Setup
) -> None:
    """A cancel locks its row, then its stamps; a plan pause locked its sessions' stamps,
    then each row. Here a third writer holds the first session's practitioner stamp while
    the pause, then the cancel of that session, start: the pause queues first for the stamp
    and the cancel holds the row. The pause now locks its rows before their stamps."""
    with pg_app.app_context():
        series = _book_series(setup, 0)
        plan_id, session_id = series.plan.id, series.appointments[0].id
        db.session.commit()
    practitioner_id = setup.series[0][0]

    def pause() -> None:
        _pause(plan_id, setup.desk_id)

    def cancel() -> None:
        _cancel(session_id, setup.desk_id)

    assert _behind_a_held_stamp(pg_app, practitioner_id, [pause, cancel]) == []
    with pg_app.app_context():
        plan_rows = db.session.scalars(
            select(Appointment.status).where(Appointment.practitioner_id == practitioner_id)
        ).all()
    assert plan_rows == [AppointmentStatus.cancelled] * 2


def test_a_booking_that_clears_another_practitioners_expired_hold_does_not_deadlock(
    pg_app: Flask,
) -> None:
    """A booking deletes the expired holds in its way (the database cannot read the clock),
    and each deleted hold bumps its own practitioner's stamp, here another practitioner's.
    That stamp was taken by the DELETE after the booking's own, its room's among them, while
    a writer holding that practitioner's stamp went on to lock the room's: a deadlock,
    outside the overlap guard (a 503). The booking now locks the expired holds' stamps with
    its own, in one order: it waits for the writer, which goes through, then books."""
    with pg_app.app_context():
        location = make_location()
        room = make_room(location=location)
        session_type = make_session_type(room_kind=RoomKind.treatment)
        booker, holder = (make_practitioner(session_types=[session_type]) for _ in range(2))
        for person in (booker, holder):
            make_hours(practitioner=person, location=location)
        hold = make_appointment(  # made 11 minutes ago, expired a minute ago, in the one room
            starts_at=at(MONDAY, 9),
            practitioner=holder,
            location=location,
            session_type=session_type,
            status=AppointmentStatus.held,
            room_id=room.id,
            room_place=1,
            hold_created_at=NOW - timedelta(minutes=11),
            hold_expires_at=NOW - timedelta(minutes=1),
        )
        ids = booker.id, holder.id, room.id, hold.id, session_type.id, make_patient().id
        desk_id = make_user(role=Role.receptionist).id
        db.session.commit()
    booker_id, holder_id, room_id, hold_id, session_type_id, patient_id = ids

    def book() -> None:
        _book(session_type_id, booker_id, at(MONDAY, 9), patient_id, desk_id)

    # The other writer, holding the holder's stamp, goes on to lock the room's.
    errors = _behind_a_held_stamp(pg_app, holder_id, [book], then=(LOCK_ROOM_STAMP, {"r": room_id}))
    assert errors == []
    with pg_app.app_context():
        assert db.session.get(Appointment, hold_id) is None
        booked = db.session.scalars(
            select(Appointment).where(Appointment.practitioner_id == booker_id)
        ).all()
        assert [(row.status, row.room_id) for row in booked] == [
            (AppointmentStatus.booked, room_id)
        ]


def _one_practitioner() -> tuple[Location, SessionType, Practitioner]:
    """A location, a session type and a practitioner who offers it and works there."""
    location = make_location()
    session_type = make_session_type()
    person = make_practitioner(session_types=[session_type])
    make_hours(practitioner=person, location=location)
    return location, session_type, person


def _two_rooms_three_people() -> tuple[
    Location, tuple[Room, Room], SessionType, list[Practitioner]
]:
    """A location with treatment rooms A and B (in that sort order), a session type that
    needs one, and three practitioners who offer it and work there on weekdays."""
    location = make_location()
    rooms = (
        make_room(location=location, sort_order=1),
        make_room(location=location, sort_order=2),
    )
    session_type = make_session_type(room_kind=RoomKind.treatment)
    people = [make_practitioner(session_types=[session_type]) for _ in range(3)]
    for person in people:
        make_hours(practitioner=person, location=location)
    return location, rooms, session_type, people


def _book_series(setup: Setup, index: int) -> planning.BookedSeries:
    practitioner_id, patient_id, starts = setup.series[index]
    return planning.book_series(
        patient=db.session.get_one(PatientProfile, patient_id),
        practitioner_id=practitioner_id,
        session_type_id=setup.session_type_id,
        starts=starts,
        goal="Less neck pain",
        actor=db.session.get_one(User, setup.desk_id),
        now=NOW,
        base_url=BASE,
        clinic_name="Meridian",
    )


def _race(app: Flask, when: str, jobs: Sequence[Callable[[], object]]) -> list[BaseException]:
    """Run each job in its own app context and transaction, started in turn once the one
    before waits, all stopped at a gate (a test trigger `when`, e.g. "AFTER INSERT ON t FOR
    EACH ROW") until every job waits on a lock; return what they raised."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    table = when.split(" ON ", 1)[1].split()[0]
    gate_keeper = admin.connect()
    gate_keeper.execute(text("SELECT pg_advisory_lock(:k)"), {"k": GATE})
    errors: list[BaseException] = []
    try:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "CREATE FUNCTION stamp_deadlock_gate() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    f"BEGIN PERFORM pg_advisory_xact_lock_shared({GATE}); RETURN NULL; END $$"
                )
            )
            conn.execute(
                text(f"CREATE TRIGGER {GATE_TRIGGER} {when} EXECUTE FUNCTION stamp_deadlock_gate()")
            )
        writers = [threading.Thread(target=_run, args=(app, job, errors.append)) for job in jobs]
        try:
            # One after the other, each until it waits: at the gate (holding its first
            # stamps), or, once stamps are locked in one order, for an earlier job's locks.
            for started, writer in enumerate(writers, start=1):
                writer.start()
                until_waiting(admin, count=started)
        finally:
            gate_keeper.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": GATE})
            for writer in writers:
                if writer.is_alive():
                    writer.join(timeout=60)
        assert not any(writer.is_alive() for writer in writers)
    finally:
        gate_keeper.close()
        with admin.connect() as conn:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {GATE_TRIGGER} ON {table}"))
            conn.execute(text("DROP FUNCTION IF EXISTS stamp_deadlock_gate()"))
        admin.dispose()
    return errors


def _book(
    session_type_id: int, practitioner_id: int, starts_at: datetime, patient_id: int, desk_id: int
) -> None:
    """The API's booking, made by the desk."""
    book_directly(
        session_type_id=session_type_id,
        practitioner_id=practitioner_id,
        starts_at=starts_at,
        patient=db.session.get_one(PatientProfile, patient_id),
        actor=db.session.get_one(User, desk_id),
        now=NOW,
        base_url=BASE,
        clinic_name="Meridian",
    )


def _pause(plan_id: int, desk_id: int) -> None:
    progress.pause_plan(
        db.session.get_one(TreatmentPlan, plan_id),
        reason="Away for a month",
        actor=db.session.get_one(User, desk_id),
        now=NOW,
        base_url=BASE,
        clinic="Meridian",
    )


def _cancel(appointment_id: int, desk_id: int) -> None:
    staff_cancel(
        staff_appointment(appointment_id),
        actor=db.session.get_one(User, desk_id),
        now=NOW,
        reason="Unwell",
        base_url=BASE,
        clinic_name="Meridian",
    )


def _against_a_writer_of_its_time(
    app: Flask,
    ids: tuple[int, int, int],
    starts: datetime,
    job: Callable[[], object],
    job_deadlock_timeout: str = "30s",
    waiting_in: str = "",
) -> tuple[list[BaseException], list[BaseException]]:
    """Another writer locks the practitioner's stamp (as lock_stamps would); `job` starts and
    runs until it waits on a lock (in a statement naming `waiting_in`, if given); the writer
    then inserts a session of that practitioner (ids: practitioner, location, session type)
    at `starts` and commits. Returns what the writer and the job raised."""
    practitioner_id, location_id, session_type_id = ids
    admin = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
    stamp_locked, insert = threading.Event(), threading.Event()
    writer_errors: list[BaseException] = []
    job_errors: list[BaseException] = []

    def writer() -> None:
        db.session.execute(LOCK_STAMP, {"p": practitioner_id})
        stamp_locked.set()
        assert insert.wait(30)
        make_appointment(
            starts_at=starts,
            practitioner=db.session.get_one(Practitioner, practitioner_id),
            location=db.session.get_one(Location, location_id),
            session_type=db.session.get_one(SessionType, session_type_id),
        )

    threads = [
        threading.Thread(target=_run, args=(app, writer, writer_errors.append, "30s")),
        threading.Thread(target=_run, args=(app, job, job_errors.append, job_deadlock_timeout)),
    ]
    try:
        threads[0].start()
        assert stamp_locked.wait(30)
        threads[1].start()
        until_waiting(admin, on=waiting_in, seconds=10)
        insert.set()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        insert.set()
        admin.dispose()
    assert not any(thread.is_alive() for thread in threads)
    return writer_errors, job_errors


def _behind_a_held_stamp(
    app: Flask,
    practitioner_id: int,
    jobs: Sequence[Callable[[], object]],
    then: tuple[TextClause, dict[str, int]] | None = None,
) -> list[BaseException]:
    """Hold the practitioner's stamp while each job starts, in turn, until it waits on a
    lock; run `then` (a statement and its values, e.g. another lock) in the same
    transaction; then let it all go and return what the jobs raised."""
    admin = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
    blocker = admin.connect()
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_run, args=(app, job, errors.append)) for job in jobs]
    try:
        blocker.execute(text("BEGIN"))
        blocker.execute(LOCK_STAMP, {"p": practitioner_id})
        for started, thread in enumerate(threads, start=1):
            thread.start()
            until_waiting(admin, count=started)
        if then is not None:
            blocker.execute(*then)
        blocker.execute(text("ROLLBACK"))
        for thread in threads:
            thread.join(timeout=60)
    finally:
        blocker.close()
        admin.dispose()
    assert not any(thread.is_alive() for thread in threads)
    return errors


def _run(
    app: Flask,
    job: Callable[[], object],
    failed: Callable[[BaseException], None],
    deadlock_timeout: str = "100ms",
) -> None:
    """`job` in its own app context (its own session and connection), then commit."""
    with app.app_context():
        try:
            # A deadlock is found in 100 ms by default, not PostgreSQL's default second.
            db.session.execute(text(f"SET LOCAL deadlock_timeout = '{deadlock_timeout}'"))
            job()
            db.session.commit()
        except BaseException as error:  # reported to the test's thread
            db.session.rollback()
            failed(error)
        finally:
            db.session.remove()
