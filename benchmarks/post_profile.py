"""The booking POST in-process (issue 22): CPU, statements and SQLite write-lock time per POST.

Runs `POST /api/v1/appointments` over the Flask test client on a copy of a seeded database
(the SQLite file or PostgreSQL database `benchmarks/pages.py` caches), each body a free time
the availability API offers, as pages.py builds them: first posts answer 201 (or 409 where
offered starts overlap), repeats 409.

    python benchmarks/post_profile.py --sqlite instance/bench/pages-scale50000-<key>.sqlite
    python benchmarks/post_profile.py --pg bench_pages_c_scale50000_<key> --rounds 3
    python benchmarks/post_profile.py --quick     # the newest SQLite file pages.py cached

Prints, per round, CPU ms per 201 and per 409 (`time.process_time()`; wall ms too: on
PostgreSQL the server's work and the commit's WAL flush show only there), statements per 201
and per 409 (BEGIN/COMMIT included), and on SQLite the wall time from `BEGIN IMMEDIATE` to the
end of the commit (the write lock's hold). Compare best-of-rounds; the numbers are noisy on a
shared machine.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for folder in (str(ROOT), str(HERE)):
    if folder not in sys.path:
        sys.path.insert(0, folder)

from _common import offered_bookings  # noqa: E402 - benchmarks/ is on the path only from here

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--sqlite", type=Path, help="a seeded SQLite file (copied, never changed)")
    where.add_argument("--pg", help="a seeded PostgreSQL database (used as a template)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--posts", type=int, default=150, help="first posts per round")
    parser.add_argument("--repeats", type=int, default=60, help="repeated bodies per round")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--show", action="store_true", help="print a 201's and a 409's statements")
    parser.add_argument(
        "--slowest", action="store_true", help="print the statements' CPU per 201, costliest first"
    )
    parser.add_argument("--quick", action="store_true", help="one round of 60 + 20 POSTs")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile the last round: top N"
    )
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.posts, args.repeats = 1, 60, 20
    if args.sqlite is None and args.pg is None:
        cached = sorted(
            (ROOT / "instance" / "bench").glob("pages-scale*.sqlite"),
            key=lambda path: path.stat().st_mtime,
        )
        if not cached:
            parser.error("give --sqlite or --pg (or run benchmarks/pages.py first to cache one)")
        args.sqlite = cached[-1]
    return args


def main() -> None:
    args = parse_args()
    folder = Path(tempfile.mkdtemp(prefix="perfpost-"))
    run_db = None
    if args.sqlite:
        copy = folder / "run.sqlite"
        with sqlite3.connect(args.sqlite) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        url = f"sqlite:///{copy}"
    else:
        import psycopg

        run_db = f"perfpost_run_{secrets.token_hex(4)}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as a:
            a.execute(f'CREATE DATABASE "{run_db}" TEMPLATE "{args.pg}"')
        url = PG_SERVER + run_db
    try:
        measure(args, url, folder)
    finally:
        if run_db:
            import psycopg

            with psycopg.connect(
                "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
            ) as a:
                a.execute(f'DROP DATABASE IF EXISTS "{run_db}" WITH (FORCE)')


def measure(args: argparse.Namespace, url: str, folder: Path) -> None:
    from sqlalchemy import event, select

    from booking import create_app
    from booking.extensions import db
    from booking.models import PatientProfile, Role, User
    from booking.services.api.tokens import create_token

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secrets.token_hex(32),
            "DEVELOPMENT": True,
            "LOG_LEVEL": "WARNING",
            "API_RATELIMIT_PER_IP": "100000000/minute",
            "API_RATELIMIT_PER_TOKEN": "100000000/minute",
            "RATELIMIT_ENABLED": False,
        },
        instance_path=folder,
    )
    rng = random.Random(args.seed)
    with app.app_context():
        desk = db.session.scalar(select(User).where(User.role == Role.receptionist).limit(1))
        _, token = create_token(email=desk.email, name="post profile", now=datetime.now(UTC))
        db.session.commit()
        patients = list(db.session.scalars(select(PatientProfile.id).limit(2000)))
        engine = db.engine
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    practitioners = client.get("/api/v1/practitioners?limit=500").get_json()["items"]
    triples = [
        (t, p["id"], loc)
        for p in practitioners
        for loc in p["location_ids"]
        for t in p["session_type_ids"]
    ]

    statements: list[str] = []
    lock: dict[str, float] = {}
    held: list[float] = []
    held_cpu: list[float] = []

    def on_statement(_c: Any, _cur: Any, text: str, *_a: Any) -> None:
        statements.append(text)
        if text.startswith("BEGIN IMMEDIATE"):
            lock["since"] = time.perf_counter()
            lock["cpu"] = time.process_time()

    def on_begin(_c: Any) -> None:
        statements.append("BEGIN")

    def on_commit(_c: Any) -> None:
        statements.append("COMMIT")

    spent_in: dict[str, float] = {}
    began_at: list[float] = []

    def before_statement(*_a: Any) -> None:
        began_at.append(time.process_time())

    def after_statement(_c: Any, _cur: Any, text: str, *_a: Any) -> None:
        key = " ".join(text.split())[:90]
        spent_in[key] = spent_in.get(key, 0.0) + time.process_time() - began_at.pop()

    if args.slowest:
        event.listen(engine, "before_cursor_execute", before_statement)
        event.listen(engine, "after_cursor_execute", after_statement)
    event.listen(engine, "before_cursor_execute", on_statement)
    if engine.dialect.name != "sqlite":
        event.listen(engine, "begin", on_begin)
    event.listen(engine, "commit", on_commit)

    from sqlalchemy.orm import Session

    @event.listens_for(Session, "after_commit")
    def _after_commit(_s: Any) -> None:
        if "since" in lock:
            held.append(time.perf_counter() - lock.pop("since"))
            held_cpu.append(time.process_time() - lock.pop("cpu"))

    @event.listens_for(Session, "after_rollback")
    def _after_rollback(_s: Any) -> None:
        if "since" in lock:
            held.append(time.perf_counter() - lock.pop("since"))
            held_cpu.append(time.process_time() - lock.pop("cpu"))

    used: set[tuple[int, str]] = set()

    def bodies(wanted: int) -> list[str]:
        out = offered_bookings(
            lambda path: client.get(path).get_json(),
            triples,
            patients,
            rng,
            wanted,
            seen=used,
            calls=None,
        )
        rng.shuffle(out)
        return out[:wanted]

    rounds: list[dict[str, Any]] = []
    for round_no in range(1, args.rounds + 1):
        batch = bodies(args.posts)
        batch += rng.sample(batch, min(args.repeats, len(batch)))
        cpu: dict[int, list[float]] = {}
        wall: dict[int, list[float]] = {}
        last: dict[int, list[str]] = {}
        count: dict[int, list[int]] = {}
        held.clear()
        held_cpu.clear()
        profiler = None
        if args.profile and round_no == args.rounds:
            import cProfile

            profiler = cProfile.Profile()
        spent_in.clear()
        for body in batch:
            statements.clear()
            if profiler is not None:
                profiler.enable()
            began, began_wall = time.process_time(), time.perf_counter()
            response = client.post("/api/v1/appointments", data=body, headers=headers)
            spent = time.process_time() - began
            wall.setdefault(response.status_code, []).append(
                (time.perf_counter() - began_wall) * 1000
            )
            if profiler is not None:
                profiler.disable()
            cpu.setdefault(response.status_code, []).append(spent * 1000)
            count.setdefault(response.status_code, []).append(len(statements))
            last[response.status_code] = list(statements)
            if response.status_code not in (201, 409):
                raise RuntimeError(f"{response.status_code}: {response.get_data(True)[:300]}")
        parts = [f"round {round_no}:"]
        for status in sorted(cpu):
            times = cpu[status]
            parts.append(
                f"{status} x{len(times)} cpu mean {statistics.fmean(times):.2f} ms"
                f" median {statistics.median(times):.2f} ms,"
                f" wall median {statistics.median(wall[status]):.2f} ms,"
                f" statements {min(count[status])}-{max(count[status])}"
            )
        if held:
            parts.append(
                f"lock held: n={len(held)} mean {statistics.fmean(held) * 1000:.2f} ms"
                f" median {statistics.median(held) * 1000:.2f} ms wall,"
                f" cpu mean {statistics.fmean(held_cpu) * 1000:.2f} ms"
            )
        print(" | ".join(parts), flush=True)
        rounds.append(
            {
                "cpu_ms_median": {s: round(statistics.median(t), 2) for s, t in cpu.items()},
                "wall_ms_median": {s: round(statistics.median(t), 2) for s, t in wall.items()},
                "statements": {s: max(n) for s, n in count.items()},
                "lock_held_ms_median": round(statistics.median(held) * 1000, 2) if held else None,
                "lock_cpu_ms_mean": round(statistics.fmean(held_cpu) * 1000, 2)
                if held_cpu
                else None,
            }
        )
    if profiler is not None:
        import pstats

        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(args.profile)
        stats.print_callees(
            r"compose_patient_email|book_directly|create_appointment|_guard|_finish"
        )
    if args.slowest:
        posts = sum(len(times) for times in cpu.values())
        print(f"--- statement CPU (driver only) per POST of the last round, {posts} POSTs")
        for key, total in sorted(spent_in.items(), key=lambda kv: -kv[1])[:15]:
            print(f"{total / posts * 1000:7.3f} ms  {key}")
    if args.show:
        for status, seen in sorted(last.items()):
            print(f"--- statements of a {status}")
            print("\n".join(" ".join(text.split())[:160] for text in seen))
    print(
        json.dumps({"benchmark": "post_profile", "engine": engine.dialect.name, "rounds": rounds})
    )


if __name__ == "__main__":
    main()
