"""Availability at chain scale (issue 5): seed in bulk, then time `find_slots`.

Seeds 10 locations, 100 practitioners, 30 rooms, 4 session types and N appointments over two
years directly (executemany on SQLite, COPY on PostgreSQL), into a fresh database built by the
migrations. Measures the service call (data loading included, each call in its own app
context) at 10k appointments, loads the rest, and measures again.

    python benchmarks/availability.py                      # SQLite, 1,000,000 appointments
    python benchmarks/availability.py --quick              # 100,000 appointments
    python benchmarks/availability.py --engine postgresql \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Prints a table, then one JSON object as the last line (keys in benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import gc
import heapq
import importlib.util
import json
import math
import os
import platform
import random
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time as clock
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MIGRATION = ROOT / "migrations" / "versions" / "20261125_initial_schema.py"
STAGE_APPOINTMENTS = 10_000
PERIOD_START = date(2026, 1, 5)  # a Monday
PERIOD_DAYS = 728  # two years, 104 whole weeks
ZONES = (
    "Europe/London",
    "Europe/London",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Dublin",
    "America/New_York",
    "America/New_York",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Sydney",
)
PRACTITIONERS_PER_LOCATION = 10
PATIENTS_PER_PRACTITIONER = 10
OPEN, CLOSE = time(9), time(17)


@dataclass(frozen=True)
class Kind:
    type_id: int
    slug: str
    minutes: int
    before: int
    after: int
    room_kind: str | None
    weight: int


KINDS = (
    Kind(1, "follow-up", 30, 0, 5, "treatment", 4),
    Kind(2, "first-session", 40, 0, 10, "treatment", 2),
    Kind(3, "cupping", 20, 5, 5, None, 2),
    Kind(4, "community", 30, 0, 5, "community", 2),
)
TIMED_KIND = KINDS[0]  # the timed queries ask for follow-ups: a treatment room is needed
NO_ROOM_KIND = KINDS[2]
GAPS = (0, 0, 0, 0, 0, 300, 900, 1800)  # seconds of free time before a session

# Appointment columns in insert order.
COLUMNS = (
    "id",
    "status",
    "starts_at",
    "ends_at",
    "busy_from",
    "busy_until",
    "practitioner_id",
    "location_id",
    "room_id",
    "room_place",
    "patient_id",
    "session_type_id",
    "source",
    "hold_expires_at",
    "hold_created_at",
    "hold_owner",
    "ics_uid",
    "ics_sequence",
    "is_first_visit",
    "late_cancel",
    "cancelled_at",
    "created_at",
    "updated_at",
)

# (status, starts, ends, busy_from, busy_until, practitioner, location, room, place, patient,
#  type, hold_expires) with instants as UTC epoch seconds.
Row = tuple[str, int, int, int, int, int, int, int | None, int | None, int | None, int, int | None]


# --- options and output ------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server URL (default: $BENCH_DATABASE_URL, then $TEST_DATABASE_URL); "
        "the benchmark creates and drops its own database on that server",
    )
    parser.add_argument(
        "--database-name",
        default="bench_availability",
        help="PostgreSQL database to create and drop (default: bench_availability)",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--appointments", type=int, default=1_000_000)
    size.add_argument("--quick", action="store_true", help="100,000 appointments")
    size.add_argument("--tiny", action="store_true", help="300 appointments (smoke test)")
    parser.add_argument("--one-calls", type=int, default=200, help="one practitioner × 7 days")
    parser.add_argument("--any-calls", type=int, default=50, help="any practitioner × 28 days")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if args.quick:
        args.appointments = 100_000
    if args.tiny:
        args.appointments = 300
        args.one_calls, args.any_calls = 20, 10
    if args.appointments < 1:
        parser.error("--appointments must be at least 1")
    if args.engine == "postgresql":
        args.database_url = (
            args.database_url
            or os.environ.get("BENCH_DATABASE_URL")
            or os.environ.get("TEST_DATABASE_URL")
        )
        if not args.database_url:
            parser.error("--engine postgresql needs --database-url (or $BENCH_DATABASE_URL)")
    return args


def say(message: str) -> None:
    print(message, flush=True)


@contextmanager
def step(label: str, timings: dict[str, float], key: str) -> Iterator[None]:
    start = clock.perf_counter()
    yield
    timings[key] = timings.get(key, 0.0) + clock.perf_counter() - start
    say(f"  {label}: {clock.perf_counter() - start:.1f} s")


# --- fixture data --------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Ids of everything but appointments; ids are assigned here, not by the database."""

    locations: list[tuple[int, str]]  # (id, zone)
    practitioners: dict[int, list[int]]  # location id -> practitioner ids
    rooms: list[tuple[int, int, str, str, int, int]]  # id, location, name, kind, capacity, order
    patients: int


def make_layout() -> Layout:
    locations = [(n + 1, zone) for n, zone in enumerate(ZONES)]
    practitioners = {
        loc: [
            (loc - 1) * PRACTITIONERS_PER_LOCATION + k + 1
            for k in range(PRACTITIONERS_PER_LOCATION)
        ]
        for loc, _ in locations
    }
    rooms = []
    for loc, _ in locations:
        base = (loc - 1) * 3
        rooms += [
            (base + 1, loc, "Treatment room 1", "treatment", 1, 1),
            (base + 2, loc, "Treatment room 2", "treatment", 4 if loc % 2 else 1, 2),
            (base + 3, loc, "Community room", "community", 4, 3),
        ]
    total = len(locations) * PRACTITIONERS_PER_LOCATION * PATIENTS_PER_PRACTITIONER
    return Layout(locations, practitioners, rooms, total)


def seed_reference(app: Any, layout: Layout) -> None:
    """Clinic, locations, rooms, session types, users, practitioners, hours, patients (Core)."""
    from booking.extensions import db
    from booking.models import (
        Clinic,
        Location,
        PatientProfile,
        Practitioner,
        Room,
        SessionType,
        User,
        WorkingHours,
        practitioner_session_type,
    )

    pids = [p for group in layout.practitioners.values() for p in group]
    location_of = {p: loc for loc, group in layout.practitioners.items() for p in group}
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            Clinic.__table__.insert(),
            [{"id": 1, "name": "Benchmark chain", "timezone": "Europe/London", "is_demo": False}],
        )
        conn.execute(
            Location.__table__.insert(),
            [
                {"id": loc, "name": f"Location {loc}", "slug": f"loc-{loc}", "timezone": zone}
                for loc, zone in layout.locations
            ],
        )
        conn.execute(
            Room.__table__.insert(),
            [
                {
                    "id": rid,
                    "location_id": loc,
                    "name": name,
                    "kind": kind,
                    "capacity": cap,
                    "sort_order": order,
                }
                for rid, loc, name, kind, cap, order in layout.rooms
            ],
        )
        conn.execute(
            SessionType.__table__.insert(),
            [
                {
                    "id": k.type_id,
                    "name": k.slug.replace("-", " ").capitalize(),
                    "slug": k.slug,
                    "duration_minutes": k.minutes,
                    "buffer_before_minutes": k.before,
                    "buffer_after_minutes": k.after,
                    "room_kind": k.room_kind,
                    "sort_order": k.type_id,
                }
                for k in KINDS
            ],
        )
        conn.execute(
            User.__table__.insert(),
            [
                {
                    "id": p,
                    "email": f"practitioner{p}@bench.example",
                    "password_hash": "-",
                    "role": "practitioner",
                    "display_name": f"Practitioner {p}",
                }
                for p in pids
            ],
        )
        conn.execute(
            Practitioner.__table__.insert(),
            [{"id": p, "user_id": p, "display_name": f"Practitioner {p}"} for p in pids],
        )
        conn.execute(
            practitioner_session_type.insert(),
            [{"practitioner_id": p, "session_type_id": k.type_id} for p in pids for k in KINDS],
        )
        conn.execute(
            WorkingHours.__table__.insert(),
            [
                {
                    "practitioner_id": p,
                    "location_id": location_of[p],
                    "weekday": weekday,
                    "start_time": OPEN,
                    "end_time": CLOSE,
                }
                for p in pids
                for weekday in range(5)
            ],
        )
        conn.execute(
            PatientProfile.__table__.insert(),
            [
                {
                    "id": n,
                    "given_name": "Patient",
                    "family_name": str(n),
                    "email": f"patient{n}@bench.example",
                    "contact_preference": "email",
                }
                for n in range(1, layout.patients + 1)
            ],
        )


def _weekdays() -> list[date]:
    days = (PERIOD_START + timedelta(days=n) for n in range(PERIOD_DAYS))
    return [d for d in days if d.weekday() < 5]


def _local_seconds(day: date, wall: time, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, wall, tzinfo=zone).timestamp())


def _plan_day(
    rng: random.Random,
    practitioners: list[int],
    places: dict[str, list[tuple[int, int]]],
    open_s: int,
    close_s: int,
) -> dict[int, list[tuple[Kind, int, int, int, int, int | None, int | None]]]:
    """Sessions for one location-day, packed practitioner by practitioner.

    Practitioners are served in order of when they are next free, and a room place is given
    only if it is free from the session's busy start (a place keeps the end of its last range),
    so no practitioner and no room place is ever double-booked. A session that finds no room
    becomes one that needs none.
    """
    weights = [k.weight for k in KINDS]
    free_at = dict.fromkeys((p for group in places.values() for p in group), 0)
    queue = [(open_s + rng.choice(GAPS), p) for p in practitioners]
    heapq.heapify(queue)
    plan: dict[int, list[tuple[Kind, int, int, int, int, int | None, int | None]]] = {
        p: [] for p in practitioners
    }
    while queue:
        cursor, pid = heapq.heappop(queue)
        kind = rng.choices(KINDS, weights)[0]
        busy_from = cursor + rng.choice(GAPS)
        place = None
        if kind.room_kind is not None:
            place = next((k for k in places[kind.room_kind] if free_at[k] <= busy_from), None)
            if place is None:
                kind = NO_ROOM_KIND
        start = busy_from + kind.before * 60
        end = start + kind.minutes * 60
        if end > close_s:
            continue  # this practitioner's day is full
        busy_until = end + kind.after * 60
        if place is not None:
            free_at[place] = busy_until
        room_id, room_place = place if place is not None else (None, None)
        plan[pid].append((kind, start, end, busy_from, busy_until, room_id, room_place))
        heapq.heappush(queue, (busy_until, pid))
    return plan


def generate(layout: Layout, total: int, seed: int) -> list[Row]:
    """`total` appointments over two years: live ones never overlap per practitioner or place.

    Each practitioner-day gets its share of `total`. When the share exceeds what fits in
    09:00–17:00, the surplus are cancelled or no-show rows at already booked times (the
    constraints ignore them; the queries must still skip them).
    """
    master = random.Random(seed)
    days = _weekdays()
    slots = [(loc, day) for loc, _ in layout.locations for day in days]
    per_day = len(slots) * PRACTITIONERS_PER_LOCATION
    base, extra = divmod(total, per_day)
    bonus = set(master.sample(range(per_day), extra))
    zones = {loc: ZoneInfo(zone) for loc, zone in layout.locations}
    places: dict[int, dict[str, list[tuple[int, int]]]] = {}
    for rid, loc, _name, kind, cap, _order in layout.rooms:
        places.setdefault(loc, {}).setdefault(kind, []).extend((rid, n) for n in range(1, cap + 1))
    rows: list[Row] = []
    counter = 0  # index of the practitioner-day, for the bonus rows
    for loc, day in slots:
        wants = [base + (counter + n in bonus) for n in range(PRACTITIONERS_PER_LOCATION)]
        counter += PRACTITIONERS_PER_LOCATION
        if not any(wants):
            continue  # small runs: most days stay empty, so skip planning them
        zone = zones[loc]
        rng = random.Random(f"{seed}:{loc}:{day.toordinal()}")
        open_s, close_s = _local_seconds(day, OPEN, zone), _local_seconds(day, CLOSE, zone)
        plan = _plan_day(rng, layout.practitioners[loc], places[loc], open_s, close_s)
        past = day < PERIOD_START + timedelta(days=PERIOD_DAYS // 2)
        for want, (pid, sessions) in zip(wants, plan.items(), strict=True):
            live = sessions if want >= len(sessions) else rng.sample(sessions, want)
            first_patient = (pid - 1) * PATIENTS_PER_PRACTITIONER + 1
            for seq, (kind, start, end, bfrom, buntil, room_id, place) in enumerate(live):
                patient: int | None = first_patient + seq % PATIENTS_PER_PRACTITIONER
                status, expires = ("completed" if past else "booked"), None
                if rng.random() < 0.005:  # a hold, lapsing around a day before the session
                    status, patient = "held", None
                    expires = start - 86_400 + rng.randrange(-43_200, 43_200)
                row = (status, start, end, bfrom, buntil, pid, loc, room_id, place, patient)
                rows.append((*row, kind.type_id, expires))
            for _ in range(max(0, want - len(sessions))):
                kind, start, end, bfrom, buntil, room_id, place = rng.choice(sessions)
                status = "cancelled" if rng.random() < 0.75 else "no_show"
                patient = rng.randrange(1, layout.patients + 1)
                row = (status, start, end, bfrom, buntil, pid, loc, room_id, place, patient)
                rows.append((*row, kind.type_id, None))
    if len(rows) != total:
        raise RuntimeError(f"generated {len(rows)} appointments, not {total}")
    return rows


# --- bulk load -----------------------------------------------------------------------------


class Stamp:
    """Epoch seconds → the engine's timestamp text, cached per day and per second of day."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self.days: dict[int, str] = {}

    def __call__(self, seconds: int | None) -> str | None:
        if seconds is None:
            return None
        day, rest = divmod(seconds, 86_400)
        prefix = self.days.get(day)
        if prefix is None:
            prefix = self.days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
        hours, rest = divmod(rest, 3600)
        return f"{prefix} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}.000000{self.suffix}"


def db_rows(rows: Sequence[Row], ids: Sequence[int], stamp: Stamp, true: Any, false: Any) -> Any:
    created = stamp(int(datetime(2025, 12, 1, tzinfo=UTC).timestamp()))
    for n in ids:
        status, start, end, bfrom, buntil, pid, loc, room, place, patient, kind, expires = rows[n]
        held = status == "held"
        yield (
            n + 1,
            status,
            stamp(start),
            stamp(end),
            stamp(bfrom),
            stamp(buntil),
            pid,
            loc,
            room,
            place,
            patient,
            kind,
            "online",
            stamp(expires),
            stamp(expires - 600) if held and expires is not None else None,
            f"{n:016x}" if held else None,
            f"bench-{n + 1}@meridian.example",
            0,
            false,
            false,
            stamp(start - 86_400) if status == "cancelled" else None,
            created,
            created,
        )


def _migration_module() -> Any:
    spec = importlib.util.spec_from_file_location("_bench_initial_schema", MIGRATION)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {MIGRATION}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def set_guards(app: Any, *, present: bool) -> None:
    """Drop or re-create the overlap guards with the migration's own drop/create code.

    The bulk load runs without them; on PostgreSQL re-adding the exclusion constraints
    checks every row, so a generator bug would fail loudly there.
    """
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from booking.extensions import db

    module = _migration_module()
    with (
        app.app_context(),
        db.engine.begin() as conn,
        Operations.context(MigrationContext.configure(conn)),
    ):
        if not present:
            module.drop_guards()
            return
        if conn.dialect.name == "postgresql":
            # More memory for building the three GiST indexes behind the constraints.
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
        module.create_guards()


def settle(engine: str, target: str) -> None:
    """What the database would soon do by itself, done now so it does not run during timing."""
    if engine == "sqlite":
        conn = sqlite3.connect(target)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) appointment")
        # Rows were loaded with explicit ids: move each id sequence past them, so the app's own
        # inserts (the API benchmark books through the server) do not collide with them.
        conn.execute(RESET_SEQUENCES)


RESET_SEQUENCES = """
DO $$
DECLARE t record;
BEGIN
    FOR t IN
        SELECT table_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND column_name = 'id'
          AND pg_get_serial_sequence(quote_ident(table_name), 'id') IS NOT NULL
    LOOP
        EXECUTE format(
            'SELECT setval(pg_get_serial_sequence(%L, ''id''), '
            'COALESCE((SELECT max(id) FROM %I), 0) + 1, false)',
            quote_ident(t.table_name), t.table_name
        );
    END LOOP;
END $$;
"""


def load(engine: str, target: str, rows: Sequence[Row], ids: Sequence[int]) -> None:
    insert_cols = ", ".join(COLUMNS)
    if engine == "sqlite":
        conn = sqlite3.connect(target)
        try:
            conn.execute("PRAGMA synchronous=OFF")
            marks = ", ".join("?" * len(COLUMNS))
            with conn:
                conn.executemany(
                    f"INSERT INTO appointment ({insert_cols}) VALUES ({marks})",
                    db_rows(rows, ids, Stamp(""), 1, 0),
                )
        finally:
            conn.close()
        return
    import psycopg

    copy_sql = f"COPY appointment ({insert_cols}) FROM STDIN"
    with psycopg.connect(target) as conn, conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for row in db_rows(rows, ids, Stamp("+00"), True, False):
            copy.write_row(row)


def verify_sqlite(target: str) -> int:
    """Count live rows overlapping the previous live row of their practitioner or room place."""
    live = "status IN ('held', 'booked', 'checked_in', 'completed')"
    sql = f"""
    SELECT
      (SELECT count(*) FROM (
         SELECT busy_from < lag(busy_until) OVER (
                  PARTITION BY practitioner_id ORDER BY busy_from) AS clash
         FROM appointment WHERE {live}) WHERE clash)
    + (SELECT count(*) FROM (
         SELECT busy_from < lag(busy_until) OVER (
                  PARTITION BY room_id, room_place ORDER BY busy_from) AS clash
         FROM appointment WHERE {live} AND room_id IS NOT NULL) WHERE clash)
    """
    conn = sqlite3.connect(target)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


# --- databases -----------------------------------------------------------------------------


@contextmanager
def database(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """Yield (SQLAlchemy URL, driver target) of a fresh, empty database; remove it afterwards."""
    if args.engine == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="bench_availability_"))
        path = folder / "bench.sqlite"
        try:
            yield f"sqlite:///{path}", str(path)
        finally:
            if args.keep:
                say(f"kept {path}")
            else:
                shutil.rmtree(folder, ignore_errors=True)
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(args.database_url)
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    name = args.database_name
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name)
    try:
        yield (
            url.render_as_string(hide_password=False),
            url.set(drivername="postgresql").render_as_string(hide_password=False),
        )
    finally:
        if args.keep:
            say(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(url: str) -> Any:
    from booking import create_app

    return create_app(
        {
            "DEVELOPMENT": True,  # a local measurement, not a production start
            "SECRET_KEY": secrets.token_hex(32),
            "SQLALCHEMY_DATABASE_URI": url,
            "LOG_LEVEL": "WARNING",
        }
    )


def migrate(app: Any) -> None:
    import logging

    from flask_migrate import upgrade

    from booking.extensions import db

    with app.app_context():
        upgrade()
        db.engine.dispose()
    # Alembic's fileConfig turns INFO logging on; keep the benchmark's output to the table.
    logging.getLogger("alembic").setLevel(logging.WARNING)


# --- timing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    location_id: int
    practitioner_id: int | None
    date_from: date
    days: int
    now: datetime


def make_cases(layout: Layout, seed: int, calls: int, *, days: int, anyone: bool) -> list[Case]:
    rng = random.Random(f"cases:{seed}:{days}:{anyone}")
    zones = dict(layout.locations)
    cases = []
    for _ in range(calls):
        loc = rng.choice(list(zones))
        pid = None if anyone else rng.choice(layout.practitioners[loc])
        start = PERIOD_START + timedelta(days=rng.randrange(PERIOD_DAYS - days))
        # "Now" is noon the day before, so notice and horizon keep the whole range.
        now = datetime.combine(start - timedelta(days=1), time(12), tzinfo=ZoneInfo(zones[loc]))
        cases.append(Case(loc, pid, start, days, now.astimezone(UTC)))
    return cases


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def run_cases(app: Any, cases: Sequence[Case]) -> tuple[list[float], list[float], float]:
    """Wall-clock and this thread's CPU milliseconds per call, and the mean slots found."""
    from booking.services.booking.availability import AvailabilityQuery, find_slots

    def call(case: Case) -> int:
        query = AvailabilityQuery(
            session_type_id=TIMED_KIND.type_id,
            location_id=case.location_id,
            date_from=case.date_from,
            date_to=case.date_from + timedelta(days=case.days - 1),
            practitioner_id=case.practitioner_id,
        )
        with app.app_context():  # like a request: session opened, used, removed
            return len(find_slots(query, now=case.now))

    for case in cases[:5]:  # warm the statement cache and the connection pool
        call(case)
    timings, cpu, found = [], [], 0
    for case in cases:
        start, start_cpu = clock.perf_counter(), clock.thread_time()
        found += call(case)
        timings.append((clock.perf_counter() - start) * 1000)
        cpu.append((clock.thread_time() - start_cpu) * 1000)
    return timings, cpu, found / len(cases)


def measure(app: Any, cases: dict[str, list[Case]]) -> dict[str, dict[str, float]]:
    # Move the harness's own objects (the generated rows, the app) out of the collector's
    # sight, as a preloaded server does with gc.freeze(): a full collection then scans only
    # what the calls allocate, instead of adding the harness's heap to a random call.
    gc.collect()
    gc.freeze()
    out = {}
    for name, group in cases.items():
        timings, cpu, mean_slots = run_cases(app, group)
        out[name] = {
            "calls": len(group),
            "p50": percentile(timings, 50),
            "p95": percentile(timings, 95),
            "max": max(timings),
            "cpu_p95": percentile(cpu, 95),
            "slots": mean_slots,
        }
    return out


# --- main ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = clock.perf_counter()
    timings: dict[str, float] = {}
    layout = make_layout()
    total = args.appointments
    # Small runs (--tiny) still measure two sizes: a tenth first, then the rest.
    stage = min(STAGE_APPOINTMENTS, max(1, total // 10))
    say(
        f"availability benchmark: {args.engine}, {total:,} appointments "
        f"({stage:,} first), {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with step("generate appointments", timings, "generate_s"):
        rows = generate(layout, total, args.seed)
        order = list(range(total))
        first = sorted(random.Random(args.seed).sample(order, stage))
        chosen = set(first)
        rest = [n for n in order if n not in chosen]
    cases = {
        "one": make_cases(layout, args.seed, args.one_calls, days=7, anyone=False),
        "any": make_cases(layout, args.seed, args.any_calls, days=28, anyone=True),
    }
    results: dict[str, dict[str, dict[str, float]]] = {}
    with database(args) as (url, target):
        app = make_app(url)
        with step("schema from the migrations", timings, "migrate_s"):
            migrate(app)
        with step("reference data (clinic, 10 locations, 30 rooms, 100 staff)", timings, "seed_s"):
            seed_reference(app, layout)
        say("  the overlap guards are dropped for each bulk load and re-created afterwards")
        say("  with the migration's own drop_guards()/create_guards()")
        for label, ids in ((f"{stage:,}", first), (f"{total:,}", rest)):
            if ids:
                set_guards(app, present=False)
                with step(f"load {len(ids):,} appointments", timings, "seed_s"):
                    load(args.engine, target, rows, ids)
                with step("re-create the overlap guards", timings, "seed_s"):
                    set_guards(app, present=True)
                vacuum = "VACUUM ANALYZE" if args.engine == "postgresql" else "WAL checkpoint"
                with step(vacuum, timings, "seed_s"):
                    settle(args.engine, target)
            if args.engine == "sqlite":
                with step("check no live overlaps", timings, "verify_s"):
                    clashes = verify_sqlite(target)
                if clashes:
                    raise SystemExit(f"generator produced {clashes} overlapping live rows")
            with step(f"time find_slots at {label}", timings, "measure_s"):
                results[label] = measure(app, cases)
        from booking.extensions import db

        with app.app_context():
            db.engine.dispose()

    small, full = results[f"{stage:,}"], results[f"{total:,}"]
    ratio = full["one"]["p95"] / small["one"]["p95"]
    ratio_any = full["any"]["p95"] / small["any"]["p95"]
    print_table(small, full, stage, total)
    targets = {
        "one_practitioner_7d_p95_le_10ms": full["one"]["p95"] <= 10,
        "any_practitioner_28d_p95_le_100ms": full["any"]["p95"] <= 100,
        "ratio_lt_2": ratio < 2,
    }
    say(
        "targets: "
        + ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in targets.items())
    )
    summary = {
        "benchmark": "availability",
        "engine": args.engine,
        "cores": os.cpu_count(),
        "appointments": total,
        "stage_appointments": stage,
        "p50_ms_one_practitioner_7d": round(full["one"]["p50"], 3),
        "p95_ms_one_practitioner_7d": round(full["one"]["p95"], 3),
        "p50_ms_any_practitioner_28d": round(full["any"]["p50"], 3),
        "p95_ms_any_practitioner_28d": round(full["any"]["p95"], 3),
        "p50_ms_one_practitioner_7d_10k": round(small["one"]["p50"], 3),
        "p95_ms_one_practitioner_7d_10k": round(small["one"]["p95"], 3),
        "p50_ms_any_practitioner_28d_10k": round(small["any"]["p50"], 3),
        "p95_ms_any_practitioner_28d_10k": round(small["any"]["p95"], 3),
        "p95_ratio_1m_vs_10k": round(ratio, 3),
        # This process's CPU per call: less sensitive to other load than wall time (on
        # PostgreSQL it leaves out the server's share).
        "p95_cpu_ms_one_practitioner_7d": round(full["one"]["cpu_p95"], 3),
        "p95_cpu_ms_any_practitioner_28d": round(full["any"]["cpu_p95"], 3),
        "p95_ratio_any_1m_vs_10k": round(ratio_any, 3),
        "calls_one_practitioner_7d": args.one_calls,
        "calls_any_practitioner_28d": args.any_calls,
        "seed_seconds": round(timings.get("seed_s", 0.0), 2),
        "generate_seconds": round(timings.get("generate_s", 0.0), 2),
        "total_seconds": round(clock.perf_counter() - began, 2),
        "targets_met": all(targets.values()),
        # Other work on the machine shows up in the tails; this says how busy it was.
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version if args.engine == "sqlite" else None,
    }
    print(json.dumps(summary), flush=True)
    return 0


def print_table(
    small: dict[str, dict[str, float]], full: dict[str, dict[str, float]], stage: int, total: int
) -> None:
    header = f"{'appointments':>12}  {'query':<28}{'calls':>6}{'p50 ms':>9}{'p95 ms':>9}"
    header += f"{'max ms':>9}{'cpu p95':>9}{'slots/call':>11}"
    say("")
    say(header)
    say("-" * len(header))
    names = {"one": "one practitioner × 7 days", "any": "any practitioner × 28 days"}
    for size, result in ((stage, small), (total, full)):
        for key, name in names.items():
            r = result[key]
            say(
                f"{size:>12,}  {name:<28}{r['calls']:>6}{r['p50']:>9.2f}{r['p95']:>9.2f}"
                f"{r['max']:>9.2f}{r['cpu_p95']:>9.2f}{r['slots']:>11.1f}"
            )
    say("")


if __name__ == "__main__":
    sys.exit(main())
