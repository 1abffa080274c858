"""Patient search at the front desk (issue 15): seed 50,000 patients, time mixed searches.

Builds a fresh database with the migrations (availability.py's helpers, imported), inserts
N patients with Core `executemany` (search keys computed by the application's own
functions), then times `booking.services.patients.search.search_patients` — one app context
per call, as a request would — over mixed queries: a name prefix, a full name, a misspelt
name (one or two words), a date of birth, an email and a phone number in several formats.

    python benchmarks/patient_search.py                       # SQLite, 50,000 patients
    python benchmarks/patient_search.py --quick               # fewer timed calls
    python benchmarks/patient_search.py --engine postgresql \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python benchmarks/patient_search.py --engine both

Prints a table, then one JSON object as the last line (`engine`, `patients`, `p95_ms_search`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time as clock
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "benchmarks"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import availability as chain  # noqa: E402 - benchmarks/ is on the path only from here

TARGET_P95_MS = 50.0


def _words(text: str) -> list[str]:
    return text.split()


GIVEN = _words(
    "Oliver Amelia George Isla Harry Ava Noah Mia Jack Ivy Leo Lily Arthur Isabella "
    "Muhammad Rosie Oscar Sophia Charlie Grace Jacob Freya Thomas Willow Henry Evie "
    "William Florence James Ella Aoife Siobhan Niamh Ciaran Eoin Saoirse Padraig Roisin "
    "Mei Wei Priya Anjali Rahul Arjun Fatima Aisha Omar Yusuf Chloe Zoe Daniel Samuel "
    "Joseph Lucas Emily Hannah Katherine Catherine Kathryn Stephen Steven Jon John "
    "Jonathan Sean Shaun Marie Mary"
)
FAMILY_HEADS = _words(
    "Ash Black Brad Brook Cald Clay Dun Ells Fair Green Hal Hart Hol Kings Lang Mar Mid "
    "Nor Old Rad Ross Sand Stan Thorn Wal West Whit Wood Har Bell"
)
FAMILY_TAILS = _words("worth more ford well ley ton field by wick ham stead ridge son croft bury")
FAMILY_COMMON = _words(
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts "
    "Robinson Thompson Wright Walker White Edwards Hughes Green Hall Murphy Kelly O'Brien "
    "Byrne Ryan O'Sullivan Walsh McCarthy Chen Wang Li Zhang Patel Shah Khan Ahmed Singh "
    "Kaur Okafor Adeyemi Nowak Kowalski Müller Schmidt García Martínez Rossi Dubois "
    "Nguyen Kim"
)
KINDS = (
    "name_prefix",
    "full_name",
    "misspelt_name",
    "misspelt_one_word",
    "date_of_birth",
    "email",
    "phone",
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server URL (default: $BENCH_DATABASE_URL, then $TEST_DATABASE_URL)",
    )
    parser.add_argument("--database-name", default="bench_patient_search")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--patients", type=int, default=50_000)
    size.add_argument("--quick", action="store_true", help="50,000 patients, 70 calls per kind")
    size.add_argument("--tiny", action="store_true", help="500 patients (smoke test)")
    parser.add_argument("--calls", type=int, default=300, help="timed calls per query kind")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls = 70
    if args.tiny:
        args.patients, args.calls = 500, 8
    if args.patients < 1:
        parser.error("--patients must be at least 1")
    if args.engine in ("postgresql", "both"):
        args.database_url = (
            args.database_url
            or os.environ.get("BENCH_DATABASE_URL")
            or os.environ.get("TEST_DATABASE_URL")
        )
        if not args.database_url:
            parser.error("--engine postgresql needs --database-url (or $BENCH_DATABASE_URL)")
    return args


@dataclass(frozen=True)
class Person:
    given: str
    family: str
    born: date
    email: str
    phone_national: str  # GB mobile, as 07700 9xxxxx


def make_people(total: int, seed: int) -> list[Person]:
    rng = random.Random(f"people:{seed}")
    families = FAMILY_COMMON + [h + t for h in FAMILY_HEADS for t in FAMILY_TAILS]
    people = []
    for n in range(total):
        given, family = rng.choice(GIVEN), rng.choice(families)
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
        people.append(
            Person(
                given=given,
                family=family,
                born=born,
                email=f"{given.lower()}.{n}@example.org",
                phone_national=f"07{rng.randrange(100, 999)}{n:06d}",
            )
        )
    return people


def seed_patients(app: Any, people: Sequence[Person]) -> None:
    from sqlalchemy import insert

    from booking.domain.patients.search import name_key, soundex
    from booking.extensions import db
    from booking.models import PatientProfile

    now = datetime.now(UTC)
    rows = []
    for person in people:
        given, family = name_key(person.given), name_key(person.family)
        rows.append(
            {
                "given_name": person.given,
                "family_name": person.family,
                "date_of_birth": person.born,
                "email": person.email,
                "search_email": person.email.lower(),
                "phone": "+44" + person.phone_national[1:],
                "contact_preference": "email",
                "opted_out": False,
                "created_at": now,
                "search_given": given,
                "search_family": family,
                "sound_given": soundex(given),
                "sound_family": soundex(family),
            }
        )
    with app.app_context():
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(PatientProfile), rows[start : start + 5000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE patient_profile")
        else:
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
        db.engine.dispose()


def misspell(word: str, rng: random.Random) -> str:
    """One typo after the first letter: a swapped pair, a dropped or a doubled letter."""
    letters = [c for c in word.lower() if c.isalpha()]
    if len(letters) < 5:
        return "".join(letters)
    i = rng.randrange(1, len(letters) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        letters[i], letters[i + 1] = letters[i + 1], letters[i]
    elif kind == 1:
        del letters[i]
    else:
        letters.insert(i, letters[i])
    return "".join(letters)


def phone_as_typed(national: str, rng: random.Random) -> str:
    digits = national[1:]
    return rng.choice(
        (
            national,
            f"{national[:5]} {national[5:]}",
            f"+44 {digits[:4]} {digits[4:7]} {digits[7:]}",
            f"({national[:5]}) {national[5:8]}-{national[8:]}",
            f"0044 {digits}",
            f"+44 (0){digits}",
        )
    )


def make_queries(people: Sequence[Person], calls: int, seed: int) -> list[tuple[str, str, int]]:
    """(kind, text typed, index of the person it should find)."""
    rng = random.Random(f"queries:{seed}")
    queries = []
    for kind in KINDS:
        for _ in range(calls):
            n = rng.randrange(len(people))
            p = people[n]
            if kind == "name_prefix":
                text = p.family[: rng.randint(3, 5)]
            elif kind == "full_name":
                text = f"{p.given} {p.family}"
            elif kind == "misspelt_name":
                text = f"{p.given} {misspell(p.family, rng)}"
            elif kind == "misspelt_one_word":
                text = misspell(p.family, rng)
            elif kind == "date_of_birth":
                text = rng.choice(
                    (p.born.strftime("%d/%m/%Y"), p.born.isoformat(), p.born.strftime("%-d %B %Y"))
                )
            elif kind == "email":
                text = p.email.upper() if rng.random() < 0.3 else p.email
            else:
                text = phone_as_typed(p.phone_national, rng)
            queries.append((kind, text, n))
    rng.shuffle(queries)
    return queries


def _finds(kind: str, person: Person, patients: Sequence[Any]) -> bool:
    """Whether the answer holds the person looked for (by name for name searches)."""
    if kind == "name_prefix":
        return bool(patients)
    if kind in ("full_name", "misspelt_name"):
        return any((p.given_name, p.family_name) == (person.given, person.family) for p in patients)
    if kind == "misspelt_one_word":
        return any(p.family_name == person.family for p in patients)
    return any(p.email == person.email for p in patients)


def measure(app: Any, people: Sequence[Person], queries: Sequence[tuple[str, str, int]]) -> Any:
    from booking.extensions import db
    from booking.services.patients.search import search_patients

    today = date(2026, 12, 6)
    times: dict[str, list[float]] = defaultdict(list)
    found: dict[str, int] = defaultdict(int)
    for kind, text, n in queries:
        start = clock.perf_counter()
        with app.app_context():
            result = search_patients(text, today=today, regions=("GB",))
            hit = _finds(kind, people[n], result.patients)
            db.session.remove()
        times[kind].append((clock.perf_counter() - start) * 1000)
        found[kind] += hit
    return times, found


def run_engine(args: argparse.Namespace, engine: str) -> dict[str, Any]:
    engine_args = argparse.Namespace(**{**vars(args), "engine": engine})
    people = make_people(args.patients, args.seed)
    queries = make_queries(people, args.calls, args.seed)
    chain.say(f"patient search benchmark: {engine}, {args.patients:,} patients")
    timings: dict[str, float] = {}
    with chain.database(engine_args) as (url, _target):
        app = chain.make_app(url)
        with chain.step("schema from the migrations", timings, "migrate_s"):
            chain.migrate(app)
        with chain.step(f"insert {args.patients:,} patients", timings, "seed_s"):
            seed_patients(app, people)
        with app.app_context():  # warm the connection pool and the caches
            from booking.services.patients.search import search_patients

            search_patients(people[0].family, today=date(2026, 12, 6), regions=("GB",))
        with chain.step(f"time {len(queries):,} searches", timings, "measure_s"):
            times, found = measure(app, people, queries)
        from booking.extensions import db

        with app.app_context():
            db.engine.dispose()
    every = [t for values in times.values() for t in values]
    per_kind = {
        kind: {
            "calls": len(times[kind]),
            "p50": chain.percentile(times[kind], 50),
            "p95": chain.percentile(times[kind], 95),
            "max": max(times[kind]),
            "found": found[kind] / len(times[kind]),
        }
        for kind in KINDS
    }
    print_table(engine, per_kind, every)
    return {
        "engine": engine,
        "patients": args.patients,
        "p95_ms_search": round(chain.percentile(every, 95), 3),
        "p50_ms_search": round(chain.percentile(every, 50), 3),
        "p95_ms_by_kind": {k: round(v["p95"], 3) for k, v in per_kind.items()},
        "found_rate_by_kind": {k: round(v["found"], 3) for k, v in per_kind.items()},
        "calls": len(every),
        "seed_seconds": round(timings.get("seed_s", 0.0), 2),
        "target_p95_le_50ms": chain.percentile(every, 95) <= TARGET_P95_MS,
    }


def print_table(engine: str, per_kind: dict[str, dict[str, float]], every: list[float]) -> None:
    header = f"{'engine':<11}{'query':<20}{'calls':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
    header += f"{'found':>8}"
    chain.say("")
    chain.say(header)
    chain.say("-" * len(header))
    for kind, r in per_kind.items():
        chain.say(
            f"{engine:<11}{kind:<20}{r['calls']:>6}{r['p50']:>9.2f}{r['p95']:>9.2f}"
            f"{r['max']:>9.2f}{r['found']:>8.0%}"
        )
    chain.say(
        f"{engine:<11}{'all':<20}{len(every):>6}{chain.percentile(every, 50):>9.2f}"
        f"{chain.percentile(every, 95):>9.2f}{max(every):>9.2f}"
    )
    chain.say("")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = clock.perf_counter()
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    results = [run_engine(args, engine) for engine in engines]
    common = {
        "benchmark": "patient_search",
        "cores": os.cpu_count(),
        "total_seconds": round(clock.perf_counter() - began, 2),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
    }
    if len(results) == 1:
        summary = {**results[0], **common}
    else:
        summary = {
            "engine": "+".join(engines),
            "patients": args.patients,
            "p95_ms_search": max(r["p95_ms_search"] for r in results),
            "engines": {r["engine"]: r for r in results},
            **common,
        }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
