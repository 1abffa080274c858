"""The availability API with and without the stamp-checked cache (issue 22), beside hello.

Seeds the demo clinic into a fresh SQLite file (`flask db upgrade` then `flask seed-demo`),
serves it with gunicorn (2 sync workers) from this checkout and, with `--before PATH`, from
another checkout of the code (say a worktree of `main` before the cache), and serves a bare
Flask hello with the same settings. wrk (1 thread per 8 connections, bounded in time) then
measures, in one run:

- hello: GET / (measured first and last; the mean is the reference);
- plain: GET /api/v1/availability for one practitioner × 14 days, no validator;
- revalidate: the same URL with If-None-Match set to its ETag (304 from the cache).

The rate limiter counts in Redis (`--ratelimit-storage`), far above what the run sends, so
its store's own write cost is the same on both sides and is not what is measured.

    python benchmarks/availability_cache.py --before /work/main      # 10 s per step
    python benchmarks/availability_cache.py --tiny                   # a smoke run, 1 s

Prints a table, then one JSON object as the last line: per measurement rps, p50/p99 ms and
the ratio to hello, plus `cores`.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for folder in (str(ROOT), str(HERE)):
    if folder not in sys.path:
        sys.path.insert(0, folder)

from _common import HELLO_TARGET  # noqa: E402
from api_load import UNLIMITED, Workload, gunicorn, request, run_wrk  # noqa: E402

WORKERS = 2
CONNECTIONS = 8


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--before", type=Path, help="another checkout to measure as 'before'")
    parser.add_argument("--tiny", action="store_true", help="1 s per measurement (smoke)")
    parser.add_argument(
        "--ratelimit-storage",
        default="redis://127.0.0.1:6379/14",
        help="RATELIMIT_STORAGE_URI for the servers",
    )
    parser.add_argument("--cache-url", default="", help="BOOKING_CACHE_URL for 'after'")
    args = parser.parse_args(argv)
    if args.tiny:
        args.seconds = 1.0
    return args


def environment(url: str, args: argparse.Namespace) -> dict[str, str]:
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
    env.pop("BOOKING_CACHE_URL", None)
    return env


def seed(env: dict[str, str]) -> None:
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )


def availability_path(port: int) -> str:
    """The first practitioner's next 14 days for a session type they offer."""
    status, body = request(port, "GET", "/api/v1/practitioners")
    if status != 200:
        raise RuntimeError(f"GET /api/v1/practitioners answered {status}")
    person = json.loads(body)["items"][0]
    kind = person["session_type_ids"][-1]
    start = datetime.now(UTC).date() + timedelta(days=1)
    end = start + timedelta(days=13)
    return (
        f"/api/v1/availability?session_type_id={kind}&practitioner_id={person['id']}"
        f"&location_id={person['location_id']}&from={start}&to={end}"
    )


def measure(port: int, load: Workload, seconds: float, folder: Path) -> dict[str, Any]:
    result = run_wrk(port, load, CONNECTIONS, seconds, folder)
    return {
        "rps": round(result.rps, 1),
        "p50_ms": round(result.p50_ms, 2),
        "p99_ms": round(result.p99_ms, 2),
        "statuses": result.statuses,
    }


def etag_of(port: int, path: str) -> str:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.getheader("ETag") or ""
    finally:
        conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="availability-cache-") as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'demo.sqlite'}"
        env = environment(url, args)
        seed(env)
        sides: list[tuple[str, Path, dict[str, str]]] = []
        if args.before is not None:
            sides.append(("before", args.before.resolve(), env))
        after_env = dict(env)
        if args.cache_url:
            after_env["BOOKING_CACHE_URL"] = args.cache_url
        sides.append(("after", ROOT, after_env))
        with gunicorn("hello", HELLO_TARGET, env, WORKERS, folder, ROOT) as hello:
            hello_load = Workload("hello", "GET", ["/"])
            first_hello = measure(hello.port, hello_load, args.seconds, folder)
            for side, checkout, side_env in sides:
                with gunicorn(side, "wsgi:app", side_env, WORKERS, folder, checkout) as app:
                    path = availability_path(app.port)
                    plain = Workload(f"{side}-plain", "GET", [path])
                    results[f"{side}_plain"] = measure(app.port, plain, args.seconds, folder)
                    tag = etag_of(app.port, path)
                    again = Workload(
                        f"{side}-revalidate",
                        "GET",
                        [path],
                        [],
                        {"If-None-Match": tag},  # _common.lua_string escapes it
                    )
                    results[f"{side}_revalidate"] = measure(app.port, again, args.seconds, folder)
            last_hello = measure(hello.port, hello_load, args.seconds, folder)
    hello_rps = (first_hello["rps"] + last_hello["rps"]) / 2
    results = {
        "hello": {
            **first_hello,
            "rps": round(hello_rps, 1),
            "rps_first_last": [first_hello["rps"], last_hello["rps"]],
        },
        **results,
    }
    for row in results.values():
        row["ratio_to_hello"] = round(row["rps"] / hello_rps, 3) if hello_rps else 0.0
    print(f"{'endpoint':<20} {'rps':>9} {'p50 ms':>8} {'p99 ms':>8} {'× hello':>8}  statuses")
    for name, row in results.items():
        print(
            f"{name:<20} {row['rps']:>9.1f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
            f"{row['ratio_to_hello']:>8.3f}  {row['statuses']}"
        )
    summary = {
        "engine": "sqlite",
        "workers": WORKERS,
        "connections": CONNECTIONS,
        "seconds": args.seconds,
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        **results,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
