"""The floor under the booking POST: how fast could ANY booking POST be on this machine?

`pages.py` asks the booking POST for p99 < 150 ms at 50 closed-loop clients. With 50
clients always waiting, the mean latency is 50 ÷ throughput, so that target is a throughput
target (~450 POSTs/s with the tail seen in every run). This script measures the least work
a booking POST can do and still be a booking, served the same way (gunicorn, the same worker
count, wrk, 50 connections, the same 1,000,000-appointment data, 201s then 409s on repeats):

- a bare Flask view (the framework is fixed), JSON in and out;
- the API token looked up by its hash (one query);
- the appointment inserted under the database's overlap guards and the availability stamp
  triggers (a 409 when they refuse), in one transaction with
- its audit row on the hash chain (the chain's lock, the last hash, the insert) and
- its confirmation email's outbox row (a plain-text body made with an f-string), then COMMIT.

No ORM: statements are plain SQL strings on the DB-API connection, one per worker. It skips
everything else Meridian's POST must do (the slot check against hours, exceptions, notice
and horizon, the room, the patient and first-visit reads, the email's template and .ics, the
token's use, the manage link), so Meridian's POST can only be slower. If this floor cannot
reach the target, no booking POST on this stack and machine can.

    .venv/bin/python benchmarks/post_floor.py            # both engines, 2 workers
    .venv/bin/python benchmarks/post_floor.py --engine postgresql --duration 10

The data is `pages.py`'s cached database (seeded on first use), copied for the run. The
last line printed is one JSON object of figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import secrets
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _common import HELLO_TARGET, Workload, gunicorn, rss_mb, run_wrk  # noqa: E402

FLOOR_TARGET = "benchmarks.post_floor:floor_app()"
SESSION = timedelta(minutes=30)
CHAIN_LOCK_KEY = 0x4D4552494449414E  # booking.services.platform.audit's key

# --- the floor app (runs in the gunicorn workers) --------------------------------------------


class _Floor:
    """One DB-API connection per worker process, made on its first request (after the fork)."""

    def __init__(self, url: str) -> None:
        self.postgresql = url.startswith("postgresql")
        self.mark = "%s" if self.postgresql else "?"
        self.url = url
        self.conn: Any = None

    def connect(self) -> Any:
        if self.conn is None:
            if self.postgresql:
                import psycopg

                dsn = self.url.replace("postgresql+psycopg://", "postgresql://")
                self.conn = psycopg.connect(dsn)
            else:
                path = self.url.removeprefix("sqlite:///")
                self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
        return self.conn

    def sql(self, text: str) -> str:
        return text.replace("?", self.mark)

    def when(self, value: datetime) -> Any:
        # As booking.models.types.UTCDateTime binds it: naive UTC text on SQLite.
        return value if self.postgresql else value.replace(tzinfo=None).isoformat(" ")


def floor_app() -> Any:
    """The Flask app gunicorn serves: POST /floor books, GET / answers for the start-up."""
    from flask import Flask, jsonify, request

    floor = _Floor(os.environ["FLOOR_DATABASE_URL"])
    app = Flask("floor")
    user_sql = floor.sql(
        'SELECT u.id, u.role FROM api_token t JOIN "user" u ON u.id = t.user_id '
        "WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.is_enabled"
    )
    insert_sql = floor.sql(
        "INSERT INTO appointment (status, starts_at, ends_at, busy_from, busy_until, "
        "practitioner_id, location_id, session_type_id, patient_id, source, ics_uid, "
        "ics_sequence, is_first_visit, late_cancel, booked_at, created_at, updated_at) "
        "VALUES ('booked', ?, ?, ?, ?, ?, ?, ?, ?, 'api', ?, 0, ?, ?, ?, ?, ?) RETURNING id"
    )
    stamp_sql = (
        "INSERT INTO availability_version (kind, ref_id, version) VALUES ('p', %s, 1) "
        "ON CONFLICT (kind, ref_id) DO UPDATE SET version = EXCLUDED.version WHERE false"
    )
    last_hash_sql = "SELECT row_hash FROM audit_event ORDER BY id DESC LIMIT 1"
    audit_sql = floor.sql(
        "INSERT INTO audit_event (occurred_at, actor_user_id, actor_role, action, "
        "object_type, object_id, patient_id, prev_hash, row_hash) "
        "VALUES (?, ?, ?, 'appointment.book', 'appointment', ?, ?, ?, ?)"
    )
    outbox_sql = floor.sql(
        "INSERT INTO outbox_message (kind, recipient, subject, body_text, dedupe_key, status, "
        "attempts, next_attempt_at, created_at, appointment_id, patient_id, essential) "
        "VALUES ('confirmation', ?, 'Your session is booked', ?, ?, 'pending', 0, ?, ?, ?, ?, ?)"
    )

    refused: tuple[type[BaseException], ...] = (sqlite3.IntegrityError, *_refusals())

    @app.get("/")
    def ready() -> str:
        return "ok"

    @app.post("/floor")
    def book() -> Any:
        body = request.get_json()
        plaintext = request.headers.get("Authorization", "").removeprefix("Bearer ")
        conn = floor.connect()
        digest = hashlib.sha256(plaintext.encode()).hexdigest()
        user = conn.execute(user_sql, (digest,)).fetchone()  # PostgreSQL: the transaction's first
        if user is None:
            conn.rollback()
            return jsonify(title="Unauthorised"), 401
        now = datetime.now(UTC)
        starts = datetime.fromisoformat(body["starts_at"])
        ends = starts + SESSION
        practitioner, location = body["practitioner_id"], body["location_id"]
        patient = body["patient_id"]
        w = floor.when
        try:
            if floor.postgresql:
                # The practitioner's stamp first, as the insert's trigger would take it: two
                # overlapping inserts then queue here instead of deadlocking in the exclusion
                # check (found after deadlock_timeout, a second).
                conn.execute(stamp_sql, (practitioner,))
            else:
                conn.execute("BEGIN IMMEDIATE")
            (appointment,) = conn.execute(
                insert_sql,
                (
                    w(starts),
                    w(ends),
                    w(starts),
                    w(ends),
                    practitioner,
                    location,
                    body["session_type_id"],
                    patient,
                    f"{secrets.token_hex(16)}@meridian",
                    False,
                    False,
                    w(now),
                    w(now),
                    w(now),
                ),
            ).fetchone()
        except refused:
            # An overlap, or (PostgreSQL) two inserts of the same time at once, each waiting
            # for the other's row in the exclusion check: Meridian answers both 409.
            conn.rollback()
            return jsonify(title="That time has just been taken."), 409
        except BaseException:
            conn.rollback()
            raise
        if floor.postgresql:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK_KEY,))
        row = conn.execute(last_hash_sql).fetchone()
        previous = row[0] if row else ""
        role = str(user[1])
        payload = json.dumps(
            [previous, now.isoformat(), user[0], role, "appointment.book", appointment, patient],
            separators=(",", ":"),
        )
        row_hash = hashlib.sha256(payload.encode()).hexdigest()
        conn.execute(audit_sql, (w(now), user[0], role, appointment, patient, previous, row_hash))
        text = (
            f"Your session on {starts:%A %d %B %Y at %H:%M} is booked.\n"
            f"Reference {appointment}. To change it, use the link in this email.\n"
        )
        conn.execute(
            outbox_sql,
            (
                f"patient{patient}@example.test",
                text,
                f"confirmation:{appointment}:0",
                w(now),
                w(now),
                appointment,
                patient,
                True,
            ),
        )
        conn.commit()
        return jsonify(id=appointment, starts_at=starts.isoformat(), status="booked"), 201

    return app


def _refusals() -> tuple[type[BaseException], ...]:
    import psycopg.errors

    return psycopg.errors.ExclusionViolation, psycopg.errors.DeadlockDetected


# --- the run ---------------------------------------------------------------------------------


def floor_bodies(url: str, rng: random.Random, wanted: int) -> list[str]:
    """`wanted` distinct starts in 2031 (free: the data ends years before) for practitioners
    where they work, each with a session type they offer and a patient."""
    floor = _Floor(url)
    conn = floor.connect()
    pairs = conn.execute(
        "SELECT DISTINCT h.practitioner_id, h.location_id FROM working_hours h"
    ).fetchall()
    offers = conn.execute(
        "SELECT practitioner_id, session_type_id FROM practitioner_session_type"
    ).fetchall()
    patients = [r[0] for r in conn.execute("SELECT id FROM patient_profile LIMIT 5000")]
    if floor.postgresql:
        conn.rollback()
    conn.close()
    types: dict[int, list[int]] = {}
    for practitioner, session_type in offers:
        types.setdefault(practitioner, []).append(session_type)
    pairs = [p for p in pairs if p[0] in types]
    first = datetime(2031, 1, 6, 9, 0, tzinfo=UTC)
    seen: set[tuple[int, datetime]] = set()
    bodies: list[str] = []
    while len(bodies) < wanted:
        practitioner, location = rng.choice(pairs)
        starts = first + timedelta(days=rng.randrange(300), minutes=30 * rng.randrange(16))
        if (practitioner, starts) in seen:
            continue
        seen.add((practitioner, starts))
        body = {
            "practitioner_id": practitioner,
            "location_id": location,
            "session_type_id": rng.choice(types[practitioner]),
            "patient_id": rng.choice(patients),
            "starts_at": starts.isoformat(),
        }
        bodies.append(json.dumps(body))
    return bodies


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=float, help="seconds of load (10; --quick 1)")
    parser.add_argument("--quick", action="store_true", help="pages.py's quick data, 1 s load")
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args(argv)
    args.duration = args.duration or (1.0 if args.quick else 10.0)
    # pages.py's own arguments decide which cached database is used (its data sizes).
    import pages

    args.pages = pages.parse_args(
        ["--workers", str(args.workers), *(["--quick"] if args.quick else [])]
    )
    args.pages.data_kind = "scale" if pages.has_seed_scale() else "demo"  # as pages.main
    return args


def run_engine(args: argparse.Namespace, engine: str, rng: random.Random) -> dict[str, Any]:
    import pages

    folder = Path(tempfile.mkdtemp(prefix=f"bench_floor_{engine}_"))
    try:
        with pages.run_database(args.pages, engine, folder) as (url, seeded):
            prepared = pages.prepare(url, folder, seeded, rng)
            wanted = min(5000, int(300 * args.duration))  # as pages.py's booking_post
            bodies = floor_bodies(url, rng, wanted)
            env = {
                **pages.server_env(url, folder, secrets.token_hex(32)),
                "FLOOR_DATABASE_URL": url,
            }
            headers = {
                "Authorization": f"Bearer {prepared.token}",
                "Content-Type": "application/json",
            }
            post = Workload("floor_post", "POST", ["/floor"], bodies, headers)
            hello = Workload("hello", "GET", ["/"])
            with gunicorn("hello", HELLO_TARGET, env, args.workers, folder, ROOT) as server:
                hello_result = run_wrk(server.port, hello, 8, args.duration, folder)
            with gunicorn("floor", FLOOR_TARGET, env, args.workers, folder, ROOT) as server:
                floor_result = run_wrk(server.port, post, args.connections, args.duration, folder)
                rss = [rss_mb(pid) for pid in server.worker_pids()]
                log = server.log()
                tracebacks = log.count("Traceback")
                if tracebacks:
                    first = log.index("Traceback")
                    print(f"server traceback (first of {tracebacks}):\n{log[first : first + 3000]}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "engine": engine,
        "workers": args.workers,
        "connections": args.connections,
        "hello_rps": round(hello_result.rps, 1),
        "floor_rps": round(floor_result.rps, 1),
        "floor_p50_ms": round(floor_result.p50_ms, 2),
        "floor_p99_ms": round(floor_result.p99_ms, 2),
        "statuses": floor_result.statuses,
        "worker_rss_mb": rss,
        "server_tracebacks": tracebacks,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    rows = [run_engine(args, engine, rng) for engine in engines]
    print(
        f"\nBooking POST floor, {args.workers} workers, {args.connections} connections, "
        f"{args.duration:g} s, {os.cpu_count()} cores"
    )
    print(f"{'engine':<12}{'hello rps':>11}{'floor rps':>11}{'p50 ms':>9}{'p99 ms':>9}  answers")
    for row in rows:
        answers = ", ".join(f"{n} × {s}" for s, n in sorted(row["statuses"].items()))
        print(
            f"{row['engine']:<12}{row['hello_rps']:>11,.0f}{row['floor_rps']:>11,.0f}"
            f"{row['floor_p50_ms']:>9.0f}{row['floor_p99_ms']:>9.0f}  {answers}"
        )
    print(json.dumps({"cores": os.cpu_count(), "runs": rows}))
    return 0 if all(r["server_tracebacks"] == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
