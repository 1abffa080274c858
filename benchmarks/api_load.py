"""The JSON API under load (issue 9): real gunicorn on 127.0.0.1, chain-size seeded data.

Seeds a fresh database with `flask seed-scale`'s code (booking/demo/scale.py: 10 locations,
100 practitioners, 50,000 patients, N appointments), serves it with `gunicorn -w 4 wsgi:app`,
and serves a bare Flask "hello" app with the same gunicorn settings. Then, in one run:

1. hello: GET / at 50 concurrent connections (the ceiling of this machine and server);
2. availability: GET /api/v1/availability, one practitioner × 7 days at a random location,
   practitioner and week within the booking horizon, at 50 connections;
3. booking: POST /api/v1/appointments with a receptionist's token at 50 connections, each
   body a different (practitioner, start, patient): 201 when free, 409 when taken.

The load comes from wrk (`apt-get install wrk`; `make bench` installs it) or, when wrk is
missing, from a Python thread pool (slower: it shares the cores with the server).

    python benchmarks/api_load.py                 # SQLite, 100,000 appointments, 10 s each
    python benchmarks/api_load.py --quick         # 20,000 appointments, 5 s each
    python benchmarks/api_load.py --engine postgresql \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Prints a table, then one JSON object as the last line (keys in benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time as clock
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for folder in (str(ROOT), str(HERE)):
    if folder not in sys.path:
        sys.path.insert(0, folder)

from _common import (  # noqa: E402 - benchmarks/ is on the path only from here
    HELLO_TARGET,
    Result,
    Workload,
    gunicorn,
    request,
    run_wrk,
)

CONNECTIONS = 50
WORKERS = 4
RECEPTIONIST_EMAIL = "reception@scale.example"  # made by seed-scale
NO_SIGN_IN = "-"  # noqa: S105 - not a hash: nobody signs in with a password here
# Limits far above what the run sends: the limiter's store is exercised, never tripped.
UNLIMITED = "100000000/minute"


# --- options -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help="PostgreSQL server URL")
    parser.add_argument("--database-name", default="bench_api_load")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--appointments", type=int, default=100_000)
    size.add_argument("--quick", action="store_true", help="20,000 appointments, 5 s per load")
    size.add_argument("--tiny", action="store_true", help="300 appointments, 1 s (smoke test)")
    parser.add_argument("--duration", type=float, help="seconds per load (default 10; 5; 1)")
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers")
    parser.add_argument(
        "--ratelimit-storage",
        default="meridiandb://",
        help="RATELIMIT_STORAGE_URI for the server (default: the database store)",
    )
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    duration = 10.0
    args.patients = 50_000
    if args.quick:
        args.appointments, args.patients, duration = 20_000, 5_000, 5.0
    if args.tiny:
        args.appointments, args.patients, args.connections, duration = 300, 500, 8, 1.0
    args.duration = args.duration or duration
    if args.engine == "postgresql":
        args.database_url = (
            args.database_url
            or os.environ.get("BENCH_DATABASE_URL")
            or os.environ.get("TEST_DATABASE_URL")
        )
        if not args.database_url:
            parser.error("--engine postgresql needs --database-url (or $BENCH_DATABASE_URL)")
    if args.tool == "auto":
        args.tool = "wrk" if shutil.which("wrk") else "python"
    elif args.tool == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk, or `make bench`)")
    return args


def say(message: str) -> None:
    print(message, flush=True)


# --- data and servers --------------------------------------------------------------------


def seed(args: argparse.Namespace, url: str) -> tuple[Any, Any, str]:
    """Schema, then `flask seed-scale`'s data (booking/demo/scale.py), and an API token."""
    import availability as chain

    from booking.demo import scale
    from booking.extensions import db
    from booking.services.api.tokens import create_token

    now = datetime.now(UTC)
    today = date.today()  # noqa: DTZ011 - the server's real "now" decides the horizon
    size = scale.ScaleSize(
        patients=args.patients, appointments=args.appointments, plans=0, seed=args.seed
    )
    app = chain.make_app(url)
    chain.migrate(app)
    with app.app_context():
        # The same call as `flask seed-scale` (refusal first: the database is new).
        if (reason := scale.refusal(db.engine)) is not None:
            raise SystemExit(reason)
        scale.seed_scale(db.engine, size, now=now, password_hash=NO_SIGN_IN, today=today)
        _, token = create_token(email=RECEPTIONIST_EMAIL, name="bench", now=now)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    layout = scale.scale_layout(size, today)
    return app, layout, token


# --- workloads ---------------------------------------------------------------------------


def availability_paths(layout: Any, count: int, rng: random.Random) -> list[str]:
    from booking.demo.scale import TIMED_KIND

    today = date.today()  # noqa: DTZ011 - the server's real "now" decides the horizon
    paths = []
    for _ in range(count):
        location = rng.choice(list(layout.zones))
        practitioner = rng.choice(layout.practitioners[location])
        first = today + timedelta(days=rng.randrange(1, 60))
        last = first + timedelta(days=6)
        paths.append(
            f"/api/v1/availability?session_type_id={TIMED_KIND.type_id}"
            f"&location_id={location}&practitioner_id={practitioner}"
            f"&from={first.isoformat()}&to={last.isoformat()}"
        )
    return paths


def booking_bodies(layout: Any, count: int, rng: random.Random) -> list[str]:
    """Distinct (practitioner, start) choices on the 30-minute grid, 2 to 60 days ahead."""
    from booking.demo.scale import TIMED_KIND

    zones = layout.zones
    today = date.today()  # noqa: DTZ011 - the server's real "now" decides notice and horizon
    seen: set[tuple[int, datetime]] = set()
    bodies = []
    while len(bodies) < count:
        location = rng.choice(list(zones))
        practitioner = rng.choice(layout.practitioners[location])
        day = today + timedelta(days=rng.randrange(2, 60))
        if day.weekday() >= 5:
            continue
        wall = datetime.combine(day, time(9), tzinfo=ZoneInfo(zones[location]))
        start = wall + timedelta(minutes=30 * rng.randrange(15))
        if (practitioner, start) in seen:
            continue
        seen.add((practitioner, start))
        bodies.append(
            json.dumps(
                {
                    "session_type_id": TIMED_KIND.type_id,
                    "practitioner_id": practitioner,
                    "location_id": location,
                    "start": start.isoformat(),
                    "patient": {"id": rng.randrange(1, layout.patients + 1)},
                }
            )
        )
    return bodies


def run_python(port: int, load: Workload, connections: int, seconds: float) -> Result:
    """A thread per connection, each sending requests back to back until the time is up."""
    items = load.bodies if load.method == "POST" else load.paths
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    counter = iter(range(10**9))
    stop = clock.perf_counter() + seconds

    def worker() -> None:
        mine: list[float] = []
        seen: Counter[str] = Counter()
        while clock.perf_counter() < stop:
            item = items[next(counter) % len(items)]
            began = clock.perf_counter()
            if load.method == "POST":
                status, _ = request(port, "POST", load.paths[0], item.encode(), load.headers)
            else:
                status, _ = request(port, "GET", item, None, load.headers)
            mine.append((clock.perf_counter() - began) * 1000)
            seen[str(status)] += 1
        with lock:
            latencies.extend(mine)
            statuses.update(seen)

    began = clock.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = clock.perf_counter() - began
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[max(0, int(len(ordered) * p / 100 + 0.999999) - 1)] if ordered else 0.0

    return Result(
        len(ordered),
        elapsed,
        len(ordered) / elapsed,
        pct(50),
        pct(99),
        dict(sorted(statuses.items())),
    )


def measure(args: argparse.Namespace, port: int, load: Workload, folder: Path) -> Result:
    # Warm every worker's connection pool and statement cache first.
    for item in (load.paths if load.method == "GET" else load.bodies[-8:])[:8]:
        if load.method == "GET":
            request(port, "GET", item, None, load.headers)
        else:
            request(port, "POST", load.paths[0], item.encode(), load.headers)
    if args.tool == "wrk":
        return run_wrk(port, load, args.connections, args.duration, folder)
    return run_python(port, load, args.connections, args.duration)


# --- main --------------------------------------------------------------------------------


@contextmanager
def database(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    import availability as chain

    with chain.database(args) as (url, target):
        yield url, target


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = clock.perf_counter()
    rng = random.Random(args.seed)
    say(
        f"API load benchmark: {args.engine}, {args.appointments:,} appointments, "
        f"{args.workers} gunicorn workers, {args.connections} connections, "
        f"{args.duration:g} s per load, {args.tool}, {os.cpu_count()} cores"
    )
    folder = Path(tempfile.mkdtemp(prefix="bench_api_load_"))
    results: dict[str, Result] = {}
    try:
        with database(args) as (url, _target):
            say("  seeding (schema, chain, appointments)…")
            app, layout, token = seed(args, url)
            seeded = clock.perf_counter() - began
            env = {
                **os.environ,
                "BOOKING_DEVELOPMENT": "true",  # loopback HTTP: no production checks
                "BOOKING_SECRET_KEY": secrets.token_hex(32),
                "BOOKING_SQLALCHEMY_DATABASE_URI": url,
                "BOOKING_RATELIMIT_STORAGE_URI": args.ratelimit_storage,
                "BOOKING_API_RATELIMIT_PER_IP": UNLIMITED,
                "BOOKING_API_RATELIMIT_PER_TOKEN": UNLIMITED,
                "BOOKING_LOG_LEVEL": "WARNING",
            }
            loads = [
                ("hello", Workload("hello", "GET", ["/"])),
                (
                    "availability",
                    Workload("availability", "GET", availability_paths(layout, 2000, rng)),
                ),
                (
                    "booking",
                    Workload(
                        "booking",
                        "POST",
                        ["/api/v1/appointments"],
                        booking_bodies(layout, 20_000, rng),
                        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                    ),
                ),
            ]
            with gunicorn("hello", HELLO_TARGET, env, args.workers, folder, ROOT) as server:
                say("  measuring hello…")
                results["hello"] = measure(args, server.port, loads[0][1], folder)
            with gunicorn("meridian", "wsgi:app", env, args.workers, folder, ROOT) as server:
                for name, load in loads[1:]:
                    say(f"  measuring {name}…")
                    results[name] = measure(args, server.port, load, folder)
                log = server.log()
            if "Traceback" in log:
                # Show the first failure: a benchmark that hides its server errors misleads.
                first = log.index("Traceback")
                excerpt = log[first : first + 6000].replace("\\n", "\n").replace('\\"', '"')
                say(f"  server traceback (first of {log.count('Traceback')}):\n{excerpt}")
            from booking.extensions import db

            with app.app_context():
                db.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print_table(results)
    hello_r, avail, post = results["hello"], results["availability"], results["booking"]
    summary = {
        "benchmark": "api_load",
        "engine": args.engine,
        "cores": os.cpu_count(),
        "appointments": args.appointments,
        "workers": args.workers,
        "connections": args.connections,
        "duration_s": args.duration,
        "load_tool": args.tool,
        "ratelimit_storage": args.ratelimit_storage.split("://")[0],
        "hello_rps": round(hello_r.rps, 1),
        "hello_p50_ms": round(hello_r.p50_ms, 2),
        "hello_p99_ms": round(hello_r.p99_ms, 2),
        "availability_rps": round(avail.rps, 1),
        "availability_p50_ms": round(avail.p50_ms, 2),
        "availability_p99_ms": round(avail.p99_ms, 2),
        "availability_to_hello_ratio": round(avail.rps / hello_r.rps, 4) if hello_r.rps else None,
        "availability_statuses": avail.statuses,
        "booking_post_rps_50c": round(post.rps, 1),
        "booking_post_p50_ms_50c": round(post.p50_ms, 2),
        "booking_post_p99_ms_50c": round(post.p99_ms, 2),
        "booking_post_statuses": post.statuses,
        "server_errors": sum(
            count
            for r in results.values()
            for status, count in r.statuses.items()
            if status.startswith("5")
        ),
        "server_tracebacks": log.count("Traceback"),
        "seed_seconds": round(seeded, 1),
        "total_seconds": round(clock.perf_counter() - began, 1),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
    }
    print(json.dumps(summary), flush=True)
    return 0


def print_table(results: dict[str, Result]) -> None:
    header = f"{'load':<14}{'requests':>10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}  statuses"
    say("")
    say(header)
    say("-" * len(header))
    for name, r in results.items():
        statuses = ", ".join(f"{k}: {v}" for k, v in r.statuses.items())
        say(f"{name:<14}{r.requests:>10}{r.rps:>10.1f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}  {statuses}")
    say("")


if __name__ == "__main__":
    sys.exit(main())
