"""CPU and database round trips per request, in-process (issue 22): hello against Meridian.

Runs the Flask test client over a seeded database (a copy of `pages.py`'s cache, or any other)
and prints, for a bare Flask hello, a trivial Meridian route (`/healthz`, a 404), the public
availability API (one practitioner × one day, warm) and the start page (anonymous, its
catalogue cached), the best-of-rounds CPU per request
(`time.process_time()`, rounds interleaved) and the statements and transactions each request
sends to the database (counted in a first pass; the timed rounds run with no statement
listener, as `db_hooks.read_rows` takes SQLAlchemy's slower path on an observed engine). On
PostgreSQL it also counts the client's protocol messages with
libpq's trace (every Query/Parse/Bind/Execute/Sync the server sees), the round trips.

    python benchmarks/request_cost.py --database-url sqlite:////path/to/copy.sqlite
    python benchmarks/request_cost.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/copy_of_bench

Prints a table and, as its last line, one JSON object. Times are this machine's, under its
load: compare runs made one after the other, or the statement counts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for folder in (str(ROOT), str(HERE)):
    if folder not in sys.path:
        sys.path.insert(0, folder)

UNLIMITED = "100000000/minute"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a seeded database (not changed)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1000, help="requests per round")
    parser.add_argument("--seed", type=int, default=5)
    return parser.parse_args(argv)


def make_app(url: str, folder: str) -> Any:
    from booking import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secrets.token_hex(32),
            "DEVELOPMENT": True,
            "LOG_LEVEL": "WARNING",
            "API_RATELIMIT_PER_IP": UNLIMITED,
            "API_RATELIMIT_PER_TOKEN": UNLIMITED,
        },
        instance_path=folder,
    )


def availability_paths(client: Any, rng: random.Random) -> list[str]:
    """As `pages.py`: one practitioner × one day, 1 to 60 days ahead, 500 URLs."""
    triples = []
    cursor = ""
    while True:
        page = client.get(f"/api/v1/practitioners?limit=500{cursor}").get_json()
        for item in page["items"]:
            for location in item["location_ids"]:
                for type_id in item["session_type_ids"]:
                    triples.append((type_id, item["id"], location))
        if not page.get("next_cursor"):
            break
        cursor = f"&cursor={page['next_cursor']}"
    today = date.today()  # noqa: DTZ011 - the app's real "now" decides the horizon
    paths = []
    for _ in range(500):
        type_id, practitioner, location = rng.choice(triples)
        day = (today + timedelta(days=rng.randrange(1, 60))).isoformat()
        query = {
            "session_type_id": type_id,
            "practitioner_id": practitioner,
            "location_id": location,
            "from": day,
            "to": day,
        }
        paths.append(f"/api/v1/availability?{urlencode(query)}")
    return paths


class Tally:
    """Statements, transactions and pool checkouts on an engine, by kind."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def install(self, engine: Any) -> None:
        from sqlalchemy import event

        def _statement(*_args: Any) -> None:
            self.counts["statements"] += 1

        def _begin(_conn: Any) -> None:
            self.counts["transactions"] += 1

        def _checkout(*_args: Any) -> None:
            self.counts["checkouts"] += 1

        self.listening: list[tuple[Any, str, Any]] = [
            (engine, "before_cursor_execute", _statement),
            (engine, "begin", _begin),
            (engine.pool, "checkout", _checkout),
        ]
        for target, name, listener in self.listening:
            event.listen(target, name, listener)

    def remove(self) -> None:
        """Stop counting: an observed engine runs `read_rows` through SQLAlchemy's path
        (db_hooks), so the timed rounds run unobserved, as in production."""
        from sqlalchemy import event

        for target, name, listener in self.listening:
            event.remove(target, name, listener)


class Trace:
    """libpq's protocol trace of every pooled PostgreSQL connection: messages sent."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.file = tempfile.TemporaryFile("w+b")  # noqa: SIM115 - read back at the end
        self.traced: set[int] = set()

        @event.listens_for(engine.pool, "checkout")
        def _checkout(dbapi_conn: Any, *_args: Any) -> None:
            if id(dbapi_conn) not in self.traced:
                self.traced.add(id(dbapi_conn))
                dbapi_conn.pgconn.trace(self.file.fileno())
                dbapi_conn.pgconn.set_trace_flags(0)

    def mark(self) -> int:
        self.file.flush()
        return os.fstat(self.file.fileno()).st_size

    def sent(self, start: int) -> Counter[str]:
        """Front-end messages since `start`, by type (Query, Parse, Sync, …)."""
        self.file.seek(start)
        found: Counter[str] = Counter()
        for line in self.file.read().decode(errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[1] == "F":
                found[parts[3].split(" ")[0] if len(parts) > 3 else parts[2]] += 1
        self.file.seek(0, os.SEEK_END)
        return found


def cpu_per_request(client: Any, paths: list[str], n: int) -> float:
    began = time.process_time()
    for i in range(n):
        response = client.get(paths[i % len(paths)])
        response.close()
    return (time.process_time() - began) / n * 1000


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from _common import hello

    from booking.db_hooks import autocommit_engine
    from booking.extensions import db

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(args.database_url, folder)
        bare = hello()
        client, bare_client = app.test_client(), bare.test_client()
        with app.app_context():
            engine = db.engine
        # PostgreSQL: statements on their own run on the engine's autocommit twin.
        engines = [engine, *filter(None, [autocommit_engine(engine)])]
        tallies = [Tally() for _ in engines]
        for tally, each in zip(tallies, engines, strict=True):
            tally.install(each)
        traces = [Trace(each) for each in engines if each.dialect.name == "postgresql"]
        paths = availability_paths(client, rng)
        for path in paths:  # warm: every answer computed once
            status = client.get(path).status_code
            if status != 200:
                raise SystemExit(f"{path}: {status}")
        kinds: dict[str, tuple[Any, list[str]]] = {
            "hello": (bare_client, ["/"]),
            "healthz": (client, ["/healthz"]),
            "not_found": (client, ["/no-such-page"]),
            "availability_api": (client, paths),
            "start_page": (client, ["/"]),
        }
        per_request: dict[str, dict[str, float]] = {}
        n = 200
        for name, (who, kind_paths) in kinds.items():
            for tally in tallies:
                tally.counts.clear()
            marks = [trace.mark() for trace in traces]
            cpu_per_request(who, kind_paths, n)
            counted: Counter[str] = sum((tally.counts for tally in tallies), Counter())
            row = {key: value / n for key, value in counted.items()}
            sent: Counter[str] = Counter()
            for trace, mark in zip(traces, marks, strict=True):
                sent.update(trace.sent(mark))
            row.update({f"pg_{k}": v / n for k, v in sent.items()})
            per_request[name] = row
        for tally in tallies:
            tally.remove()
        best: dict[str, float] = {}
        for _ in range(args.rounds):
            for name, (who, kind_paths) in kinds.items():
                ms = cpu_per_request(who, kind_paths, args.requests)
                best[name] = min(best.get(name, ms), ms)
    print(f"{'request':<18} {'CPU ms':>8} {'× hello':>8}  per request")
    for name in kinds:
        counts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(per_request[name].items()))
        ratio = best["hello"] / best[name]
        print(f"{name:<18} {best[name]:8.3f} {ratio:8.3f}  {counts or '-'}")
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(
        json.dumps(
            {
                "engine": engine.dialect.name,
                "cpu_ms": best,
                "per_request": per_request,
                "load_average": os.getloadavg()[0],
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
