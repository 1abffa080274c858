"""In-process cost of the signed-in staff pages: statements per page and CPU per request.

Runs over the Flask test client on a copy of the pages benchmark's data (issue 22): signs in
a practitioner and a receptionist (password, then TOTP, enrolling if asked to), then for
each page counts the SQL statements one GET runs and times `rounds` × `repeat` GETs with
`time.process_time()` (the best round counts: CPU of this process only, so the load of the
machine matters less than wall-clock figures would) and the wall clock (which adds the
database server's time: PostgreSQL's planning and execution).

    python benchmarks/staff_profile.py --database-url sqlite:///instance/bench/copy.sqlite
    python benchmarks/staff_profile.py --database-url postgresql+psycopg://.../db --show-sql
    python benchmarks/staff_profile.py --database-url ... --save-html out/  # renderings

Run it on a copy: GETs write audit rows and session touches, and signing in enrols TOTP.
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
import tempfile
import time as clock
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_TOTP_KEY = "bWVyaWRpYW4tYmVuY2gtcGFnZXMtdG90cC1rZXkhISE="
PASSWORD = "pages-benchmark-staff-password"  # noqa: S105 - the benchmark's made-up sign-in


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--show-sql", action="store_true", help="print each page's statements")
    parser.add_argument("--save-html", type=Path, help="folder for one rendering of each page")
    parser.add_argument(
        "--now",
        help="freeze the app's clock at this UTC instant (e.g. 2026-12-07T10:00): renderings "
        "of two runs compare equal",
    )
    parser.add_argument("--profile", help="cProfile this page's GETs (a name from the table)")
    parser.add_argument("--sort", default="cumulative", help="cProfile's order (tottime, …)")
    parser.add_argument("--lines", type=int, default=45, help="cProfile lines shown")
    return parser.parse_args()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if found is None:
        raise SystemExit("the sign-in page has no CSRF field")
    return found.group(1)


def sign_in(client: Any, email: str) -> None:
    import pyotp

    page = client.get("/auth/sign-in").get_data(as_text=True)
    response = client.post(
        "/auth/sign-in",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(page)},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    if not (response.request.path or "").startswith("/auth/two-step"):
        return  # no second step asked for (a development set-up may skip it)
    shown = re.search(r"meridian-setup-key[^>]*><code>([^<]+)</code>", html)
    if shown is None:
        raise SystemExit(f"{email}: no two-step set-up page (status {response.status_code})")
    secret = shown.group(1).replace(" ", "")
    response = client.post(
        "/auth/two-step/set-up",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_of(html)},
        follow_redirects=True,
    )
    if response.status_code != 200 or "/auth/" in (response.request.path or ""):
        raise SystemExit(f"{email}: two-step set-up failed ({response.request.path})")


def main() -> None:
    args = parse_args()
    if args.now:
        from booking import clock as app_clock

        frozen = datetime.fromisoformat(args.now).replace(tzinfo=UTC)
        app_clock.utcnow = lambda: frozen  # type: ignore[assignment] - the app's one seam
    from sqlalchemy import event, select

    from booking import create_app
    from booking.extensions import db
    from booking.models import Location, PatientProfile

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.database_url,
            "SECRET_KEY": secrets.token_hex(32),
            "DEVELOPMENT": True,
            "TOTP_ENCRYPTION_KEYS": BENCH_TOTP_KEY,
            "LOG_LEVEL": "WARNING",
            "STAFF_IDLE_MINUTES": 600,
        },
        instance_path=Path(tempfile.mkdtemp(prefix="staff_profile_")),
    )
    with app.app_context():
        locations = list(db.session.scalars(select(Location.id).order_by(Location.id)))
        names = sorted(
            {
                n
                for n in db.session.scalars(
                    select(PatientProfile.family_name).where(PatientProfile.id % 50 == 0)
                )
                if n
            }
        )[:20]
        db.session.remove()
    practitioner, reception = app.test_client(), app.test_client()
    sign_in(practitioner, "practitioner1@scale.example")
    sign_in(reception, "reception@scale.example")
    today = date.fromisoformat(args.now[:10]) if args.now else date.today()  # noqa: DTZ011
    weeks = [(today + timedelta(weeks=w)).isoformat() for w in (0, 1)]
    pages: dict[str, tuple[Any, list[str]]] = {
        "practitioner_week": (
            practitioner,
            [f"/practitioner/week?start={monday}" for monday in weeks],
        ),
        "reception_day_sheet": (reception, ["/reception/"]),
        "reception_day_sheet_location": (
            reception,
            [f"/reception/?location={loc}" for loc in locations[:3]],
        ),
        "patient_search": (
            reception,
            [f"/reception/patients?{urlencode({'q': n})}" for n in names[:3]],
        ),
    }
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    timings: list[float] = []
    started: list[float] = []

    def listener(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        statements.append(statement)
        started.append(clock.perf_counter())

    def after(*_a: Any) -> None:
        timings.append((clock.perf_counter() - started[-1]) * 1000)

    event.listen(engine, "before_cursor_execute", listener)
    event.listen(engine, "after_cursor_execute", after)
    print(f"engine {engine.dialect.name}; best of {args.rounds} rounds × {args.repeat} GETs")
    print(
        f"{'page':32} {'stmts':>5} {'writes':>6} {'ms CPU/GET':>10} "
        f"{'ms wall/GET':>11} {'bytes':>7}"
    )
    for name, (client, paths) in pages.items():
        for path in paths:  # warm caches, then let any due session touch happen
            client.get(path)
        statements.clear()
        timings.clear()
        response = client.get(paths[0])
        if response.status_code != 200:
            raise SystemExit(f"{name}: {paths[0]} answered {response.status_code}")
        html = response.get_data(as_text=True)
        counted = [s for s in statements if not s.lstrip().upper().startswith(("PRAGMA",))]
        writes = [s for s in counted if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
        if args.save_html:
            args.save_html.mkdir(parents=True, exist_ok=True)
            clean = re.sub(r'(name="csrf_token"[^>]*value=")[^"]*"', r"\1…", html)
            (args.save_html / f"{name}.html").write_text(clean)
        if args.show_sql:
            print(f"--- {name} ({paths[0]})")
            spent: Counter[str] = Counter()
            for statement, ms in zip(statements, timings, strict=False):
                spent[" ".join(statement.split())[:130]] += ms
            for statement, ms in spent.most_common():
                print(f"  {ms:6.2f} ms  {statement}")
        best = float("inf")
        if args.profile == name:
            import cProfile
            import pstats

            profiler = cProfile.Profile(clock.process_time)
            profiler.enable()
            for i in range(args.repeat):
                client.get(paths[i % len(paths)])
            profiler.disable()
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.lines)
        best_wall = float("inf")
        for _ in range(args.rounds):
            began, began_wall = clock.process_time(), clock.perf_counter()
            for i in range(args.repeat):
                client.get(paths[i % len(paths)])
            best = min(best, (clock.process_time() - began) / args.repeat)
            best_wall = min(best_wall, (clock.perf_counter() - began_wall) / args.repeat)
        print(
            f"{name:32} {len(counted):5} {len(writes):6} {best * 1000:10.2f} "
            f"{best_wall * 1000:11.2f} {len(html):7}"
        )


if __name__ == "__main__":
    main()
