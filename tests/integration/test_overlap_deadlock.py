"""PostgreSQL: two writes of overlapping rows that deadlock on the exclusion constraint,
or on a row lock (a stamp) the guarded write needs.

Seen at 1,000,000 appointments under `benchmarks/pages.py` (4 workers, 50 booking clients):
two bookings inserted at the same moment each found the other's uncommitted row while
checking `appointment_no_overlap_*` and waited for it; the deadlock detector failed one,
which answered 503. For that one the time is taken, as by a committed row: `guarded_write`
answers SlotTaken (a 409), and `insert_live` tries its pick once more.

The same race can deadlock on a stamp instead: in the full suite a single booking inserted
its row and its stamp trigger waited for the practitioner's stamp, which a plan series had
locked first (lock_stamps), while the series, inserting its seventh session, waited for the
booking's row in the exclusion check (a 503 in tests/concurrency/test_plan_races.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from booking.domain.errors import SlotTaken
from booking.extensions import db
from booking.services.booking.guard import RACED, guarded_write
from tests.conftest import make_app
from tests.integration.lock_waits import until_waiting

TABLE = "overlap_deadlock_probe"
INSERT = text(
    "INSERT INTO overlap_deadlock_probe (k, during) "
    "VALUES (:k, tstzrange('2027-01-20 09:00+00', '2027-01-20 09:30+00'))"
)
COUNT = text("SELECT count(*) FROM overlap_deadlock_probe")
BUMP = text("UPDATE stamp_deadlock_probe SET v = v + 1 WHERE k = :k")


@pytest.fixture
def pg_app(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    with make_app("postgresql", tmp_path, request) as application:
        yield application


def test_the_deadlocked_write_is_refused_as_a_taken_time(pg_app: Flask) -> None:
    url = pg_app.config["SQLALCHEMY_DATABASE_URI"]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    other = create_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        conn.execute(
            text(
                f"CREATE TABLE {TABLE} (k integer, during tstzrange, "
                "EXCLUDE USING gist (k WITH =, during WITH &&))"
            )
        )
    try:
        with pg_app.app_context(), other.connect() as rival:
            # The rival waits long before looking for deadlocks; this request quickly, so
            # the detector fails this request's write, as one of two bookings.
            rival.execute(text("SET deadlock_timeout = '20s'"))
            rival.execute(INSERT, {"k": 1})
            db.session.execute(text("SET LOCAL deadlock_timeout = '100ms'"))
            db.session.execute(INSERT, {"k": 2})
            waiting = threading.Thread(target=rival.execute, args=(INSERT, {"k": 2}))
            waiting.start()  # waits for this request's row k=2
            try:
                until_waiting(admin, on="overlap_deadlock_probe", seconds=10)
                with pytest.raises(SlotTaken) as refused, guarded_write():
                    db.session.execute(INSERT, {"k": 1})  # waits for the rival's k=1: deadlock
                assert refused.value.code == RACED
                # The savepoint is gone and the request's transaction still works.
                assert db.session.execute(COUNT).scalar() == 1
            finally:
                db.session.rollback()  # lets the rival's k=2 through
                waiting.join(timeout=30)
                rival.rollback()
            assert not waiting.is_alive()
    finally:
        other.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        admin.dispose()


def test_a_deadlock_on_a_row_lock_in_the_guarded_write_is_a_taken_time(pg_app: Flask) -> None:
    url = pg_app.config["SQLALCHEMY_DATABASE_URI"]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    other = create_engine(url)
    bump = BUMP
    with admin.connect() as conn:
        conn.execute(text("DROP TABLE IF EXISTS stamp_deadlock_probe"))
        conn.execute(text("CREATE TABLE stamp_deadlock_probe (k integer PRIMARY KEY, v integer)"))
        conn.execute(text("INSERT INTO stamp_deadlock_probe VALUES (1, 0), (2, 0)"))
    try:
        with pg_app.app_context(), other.connect() as rival:
            rival.execute(text("SET deadlock_timeout = '20s'"))
            rival.execute(bump, {"k": 1})  # the rival holds one stamp
            db.session.execute(text("SET LOCAL deadlock_timeout = '100ms'"))
            waiting = threading.Thread(target=rival.execute, args=(bump, {"k": 2}))

            def attempt() -> None:
                with guarded_write():
                    db.session.execute(bump, {"k": 2})  # this write's row
                    waiting.start()  # the rival waits for it
                    until_waiting(admin, on="stamp_deadlock_probe", seconds=10)
                    db.session.execute(bump, {"k": 1})  # this one the rival's: deadlock

            try:
                with pytest.raises(SlotTaken) as refused:
                    attempt()
                assert refused.value.code == RACED
                # The savepoint's rollback let go of what the attempt locked: the rival goes on
                # while this request's transaction is still open.
                waiting.join(timeout=30)
                assert not waiting.is_alive()
                assert db.session.execute(text("SELECT 1")).scalar() == 1
            finally:
                db.session.rollback()
                if waiting.is_alive() or waiting.ident is not None:
                    waiting.join(timeout=30)
                rival.rollback()
    finally:
        other.dispose()
        with admin.connect() as conn:
            conn.execute(text("DROP TABLE IF EXISTS stamp_deadlock_probe"))
        admin.dispose()
