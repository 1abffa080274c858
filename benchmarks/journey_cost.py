"""CPU and database round trips per booking-journey GET, in-process (issue 22).

Walks the public booking journey to check answers (as `pages.py` does, over HTTP to this
process's own server on a loopback port), then sends each step's GET with that browser's
cookies through the Flask test client and prints, for a bare Flask hello and every step, the
best-of-rounds CPU per request (`time.process_time()`, rounds interleaved), the statements
and transactions each request runs, and on PostgreSQL the protocol messages libpq sends (a
round trip ends with a `Sync` or a simple `Query`).

    python benchmarks/journey_cost.py --database-url sqlite:////path/to/copy.sqlite
    python benchmarks/journey_cost.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/copy_of_bench

The walk writes a draft and a hold: give it a copy, never `pages.py`'s cache. Prints a table
and, as its last line, one JSON object. Times are this machine's, under its load: compare
runs made one after the other on the same data, or the statement counts.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for folder in (str(ROOT), str(HERE)):
    if folder not in sys.path:
        sys.path.insert(0, folder)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a seeded copy (the walk writes)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200, help="requests per step a round")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def walk(app: Any, seed: int) -> tuple[dict[str, str], dict[str, str]]:
    """The journey walked to check answers over loopback HTTP: (cookies, step → GET path)."""
    from _common import free_port
    from pages import walk_journey
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        browser, steps = walk_journey(port, random.Random(seed), seed)
    finally:
        server.shutdown()
        thread.join()
    return browser.cookies, steps


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from _common import hello
    from request_cost import Tally, Trace, cpu_per_request, make_app

    from booking.extensions import db

    with tempfile.TemporaryDirectory() as folder:
        app = make_app(args.database_url, folder)
        cookies, steps = walk(app, args.seed)
        client, bare_client = app.test_client(), hello().test_client()
        for name, value in cookies.items():
            client.set_cookie(name, value)
        with app.app_context():
            engine = db.engine
        tally = Tally()
        tally.install(engine)
        trace = Trace(engine) if engine.dialect.name == "postgresql" else None
        kinds: dict[str, tuple[Any, list[str]]] = {"hello": (bare_client, ["/"])}
        for step, path in steps.items():
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code}")
            kinds[step] = (client, [path])
        per_request: dict[str, dict[str, float]] = {}
        n = 50
        for name, (who, paths) in kinds.items():
            cpu_per_request(who, paths, 5)  # warm
            tally.counts.clear()
            mark = trace.mark() if trace else 0
            cpu_per_request(who, paths, n)
            row = {key: value / n for key, value in tally.counts.items()}
            if trace:
                sent = trace.sent(mark)
                row.update({f"pg_{k}": v / n for k, v in sent.items()})
                row["round_trips"] = (sent["Sync"] + sent["Query"]) / n
            per_request[name] = row
        best: dict[str, float] = {}
        for _ in range(args.rounds):
            for name, (who, paths) in kinds.items():
                ms = cpu_per_request(who, paths, args.requests)
                best[name] = min(best.get(name, ms), ms)
    print(f"{'request':<20} {'CPU ms':>8} {'× hello':>8} {'stmts':>6} {'trips':>6}")
    for name in kinds:
        row = per_request[name]
        trips = f"{row['round_trips']:6.2f}" if "round_trips" in row else f"{'-':>6}"
        print(
            f"{name:<20} {best[name]:8.3f} {best['hello'] / best[name]:8.3f}"
            f" {row.get('statements', 0):6.2f} {trips}"
        )
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
