"""Availability at chain scale (issue 5): seed in bulk, then time `find_slots`.

Seeds 10 locations, 100 practitioners, 30 rooms, 4 session types, patients and N appointments
over two years with `flask seed-scale`'s code (booking/demo/scale.py: executemany on SQLite,
COPY on PostgreSQL), into a fresh database built by the migrations. Measures the service
call (data loading included, each call in its own app context) at 10k appointments, loads
the rest, and measures again.

    python benchmarks/availability.py                      # SQLite, 1,000,000 appointments
    python benchmarks/availability.py --quick              # 100,000 appointments
    python benchmarks/availability.py --engine postgresql \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Prints a table, then one JSON object as the last line (keys in benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import gc
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

from booking.demo import scale  # noqa: E402 - after the path set-up above
from booking.demo.scale import TIMED_KIND, Layout, ScaleSize  # noqa: E402

STAGE_APPOINTMENTS = 10_000
NO_SIGN_IN = "-"  # noqa: S105 - not a hash: nobody signs in to the benchmark's staff
PERIOD_START = date(2026, 1, 5)  # a Monday: the two years are fixed, so runs compare
PERIOD_DAYS = 728  # 104 weeks: scale.PERIOD_WEEKS
PATIENTS = {"full": 50_000, "quick": 5_000, "tiny": 500}


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
    args.patients = PATIENTS["full"]
    if args.quick:
        args.appointments, args.patients = 100_000, PATIENTS["quick"]
    if args.tiny:
        args.appointments, args.patients = 300, PATIENTS["tiny"]
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


# --- data: booking/demo/scale.py, as `flask seed-scale` loads it -----------------------------


def make_size(args: argparse.Namespace) -> ScaleSize:
    return ScaleSize(
        locations=10,
        practitioners=100,
        patients=args.patients,
        appointments=args.appointments,
        plans=0,  # find_slots does not read plans
        seed=args.seed,
    )


def make_layout(*, patients: int = 1_000, seed: int = 5) -> Layout:
    """The chain of seed-scale over the fixed two years (outbox.py and plans.py use it)."""
    size = ScaleSize(patients=patients, appointments=0, plans=0, seed=seed)
    return scale.make_layout(size, period_start=PERIOD_START)


generate = scale.generate


def seed_chain(app: Any, layout: Layout, rows: Sequence[scale.Row]) -> None:
    """Reference data, every row in one bulk transaction, then settle (seed-scale's code)."""
    from booking.extensions import db

    now = datetime.now(UTC)
    with app.app_context():
        with scale.bulk_transaction(db.engine) as conn:
            scale.load_reference(conn, layout, password_hash=NO_SIGN_IN, now=now)
        with scale.bulk_transaction(db.engine) as conn:
            scale.load_appointments(conn, rows, range(len(rows)), now=now)
        scale.settle(db.engine)
        db.engine.dispose()


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
    zones = layout.zones
    cases = []
    for _ in range(calls):
        loc = rng.choice(list(zones))
        pid = None if anyone else rng.choice(layout.practitioners[loc])
        start = layout.period_start + timedelta(days=rng.randrange(layout.days - days))
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
    layout = scale.make_layout(make_size(args), period_start=PERIOD_START)
    total = args.appointments
    # Small runs (--tiny) still measure two sizes: a tenth first, then the rest.
    stage = min(STAGE_APPOINTMENTS, max(1, total // 10))
    say(
        f"availability benchmark: {args.engine}, {total:,} appointments "
        f"({stage:,} first), {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with step("generate appointments (booking/demo/scale.py)", timings, "generate_s"):
        rows = scale.generate(layout, total, args.seed)
        order = list(range(total))
        first = sorted(random.Random(args.seed).sample(order, stage))
        chosen = set(first)
        rest = [n for n in order if n not in chosen]
    cases = {
        "one": make_cases(layout, args.seed, args.one_calls, days=7, anyone=False),
        "any": make_cases(layout, args.seed, args.any_calls, days=28, anyone=True),
    }
    results: dict[str, dict[str, dict[str, float]]] = {}
    from booking.extensions import db

    now = datetime.now(UTC)
    with database(args) as (url, _target):
        app = make_app(url)
        with step("schema from the migrations", timings, "migrate_s"):
            migrate(app)
        label = f"reference data (10 locations, 100 staff, {layout.patients:,} patients)"
        with (
            step(label, timings, "seed_s"),
            app.app_context(),
            scale.bulk_transaction(db.engine) as conn,
        ):
            scale.load_reference(conn, layout, password_hash=NO_SIGN_IN, now=now)
        say("  each bulk load drops the overlap guards and re-creates them in its transaction")
        say("  (seed-scale's load_appointments; SQLite counts overlaps before the commit)")
        for label, ids in ((f"{stage:,}", first), (f"{total:,}", rest)):
            if ids:
                with (
                    step(f"load {len(ids):,} appointments", timings, "seed_s"),
                    app.app_context(),
                    scale.bulk_transaction(db.engine) as conn,
                ):
                    scale.load_appointments(conn, rows, ids, now=now)
                vacuum = "VACUUM ANALYZE" if args.engine == "postgresql" else "WAL checkpoint"
                with step(vacuum, timings, "seed_s"), app.app_context():
                    scale.settle(db.engine)
            with step(f"time find_slots at {label}", timings, "measure_s"):
                results[label] = measure(app, cases)

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
