"""Treatment plan proposals at chain scale (issue 17): time a 12-session plan with alternatives.

Builds the data of benchmarks/availability.py (its helpers, imported: 10 locations, 100
practitioners, 30 rooms and N appointments over two years, loaded in bulk under the same
guards), then times `booking.services.plans.planning.build_proposal` — one app context per
call, as a request would — for weekly 12-session plans at a random practitioner, wall time and
start date. Each call loads the engine's facts once for the whole plan window and offers up to
three alternatives for every occurrence that is not free.

    python benchmarks/plans.py                       # SQLite, 1,000,000 appointments
    python benchmarks/plans.py --quick               # 100,000 appointments, fewer calls
    python benchmarks/plans.py --engine postgresql \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Prints a table, then one JSON object as the last line (`engine`, `appointments`,
`p95_ms_propose_12`).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import sys
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "benchmarks"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import availability as chain  # noqa: E402 - benchmarks/ is on the path only from here

SESSIONS = 12
TARGET_MS = 100.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help="PostgreSQL server URL ($BENCH_DATABASE_URL)")
    parser.add_argument("--database-name", default="bench_plans")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--appointments", type=int, default=1_000_000)
    size.add_argument("--quick", action="store_true", help="100,000 appointments, 60 calls")
    size.add_argument("--tiny", action="store_true", help="300 appointments (smoke test)")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if args.quick:
        args.appointments, args.calls = 100_000, 60
    if args.tiny:
        args.appointments, args.calls = 300, 10
    if args.engine == "postgresql":
        args.database_url = (
            args.database_url
            or os.environ.get("BENCH_DATABASE_URL")
            or os.environ.get("TEST_DATABASE_URL")
        )
        if not args.database_url:
            parser.error("--engine postgresql needs --database-url (or $BENCH_DATABASE_URL)")
    return args


@dataclass(frozen=True)
class Case:
    location_id: int
    practitioner_id: int
    first_date: date
    wall_time: time
    now: datetime


def make_cases(layout: Any, seed: int, calls: int) -> list[Case]:
    rng = random.Random(f"plans:{seed}")
    zones = layout.zones
    span = SESSIONS * 7 + 7
    cases = []
    for _ in range(calls):
        loc = rng.choice(list(zones))
        pid = rng.choice(layout.practitioners[loc])
        first = chain.PERIOD_START + timedelta(days=rng.randrange(chain.PERIOD_DAYS - span))
        wall = time(rng.randrange(9, 17), rng.choice((0, 15, 30, 45)))
        now = datetime.combine(first - timedelta(days=1), time(12), tzinfo=ZoneInfo(zones[loc]))
        cases.append(Case(loc, pid, first, wall, now.astimezone(UTC)))
    return cases


def run_cases(app: Any, cases: Sequence[Case]) -> tuple[list[float], float, float]:
    """Milliseconds per call, mean occurrences not free, mean alternatives per taken one."""
    from booking.services.plans.planning import build_proposal

    def call(case: Case) -> tuple[int, int]:
        with app.app_context():
            proposal = build_proposal(
                session_type_id=chain.TIMED_KIND.type_id,
                practitioner_id=case.practitioner_id,
                location_id=case.location_id,
                first_date=case.first_date,
                wall_time=case.wall_time,
                count=SESSIONS,
                interval_weeks=1,
                now=case.now,
            )
        taken = [s for s in proposal.sessions if not s.free]
        return len(taken), sum(len(s.alternatives) for s in taken)

    for case in cases[:5]:  # warm the statement cache and the pool
        call(case)
    gc.collect()
    gc.freeze()
    timings: list[float] = []
    taken_total = alternatives_total = 0
    for case in cases:
        start = clock.perf_counter()
        taken, alternatives = call(case)
        timings.append((clock.perf_counter() - start) * 1000)
        taken_total += taken
        alternatives_total += alternatives
    mean_taken = taken_total / len(cases)
    return timings, mean_taken, alternatives_total / taken_total if taken_total else 0.0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = clock.perf_counter()
    timings: dict[str, float] = {}
    layout = chain.make_layout(seed=args.seed)
    total = args.appointments
    chain.say(
        f"plans benchmark: {args.engine}, {total:,} appointments, {args.calls} proposals of "
        f"{SESSIONS} weekly sessions, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with chain.step("generate appointments", timings, "generate_s"):
        rows = chain.generate(layout, total, args.seed)
    cases = make_cases(layout, args.seed, args.calls)
    with chain.database(args) as (url, _target):
        app = chain.make_app(url)
        with chain.step("schema from the migrations", timings, "migrate_s"):
            chain.migrate(app)
        label = f"reference data and {total:,} appointments (seed-scale's loaders), settle"
        with chain.step(label, timings, "seed_s"):
            chain.seed_chain(app, layout, rows)
        with chain.step("time the proposals", timings, "measure_s"):
            result, mean_taken, mean_alternatives = run_cases(app, cases)
        from booking.extensions import db

        with app.app_context():
            db.engine.dispose()
    p50, p95 = chain.percentile(result, 50), chain.percentile(result, 95)
    header = f"{'appointments':>12}  {'query':<34}{'calls':>6}{'p50 ms':>9}{'p95 ms':>9}"
    header += f"{'max ms':>9}{'taken/plan':>11}"
    chain.say("")
    chain.say(header)
    chain.say("-" * len(header))
    chain.say(
        f"{total:>12,}  {'propose 12 weekly + alternatives':<34}{len(result):>6}{p50:>9.2f}"
        f"{p95:>9.2f}{max(result):>9.2f}{mean_taken:>11.2f}"
    )
    chain.say("")
    met = p95 <= TARGET_MS
    chain.say(f"target: p95_propose_12_le_100ms {'met' if met else 'MISSED'}")
    summary = {
        "benchmark": "plans",
        "engine": args.engine,
        "cores": os.cpu_count(),
        "appointments": total,
        "calls": len(result),
        "p50_ms_propose_12": round(p50, 3),
        "p95_ms_propose_12": round(p95, 3),
        "max_ms_propose_12": round(max(result), 3),
        "mean_taken_per_plan": round(mean_taken, 3),
        "mean_alternatives_per_taken": round(mean_alternatives, 3),
        "seed_seconds": round(timings.get("seed_s", 0.0), 2),
        "total_seconds": round(clock.perf_counter() - began, 2),
        "targets_met": met,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
