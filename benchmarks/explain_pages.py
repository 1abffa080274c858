"""EXPLAIN ANALYZE of every query the busiest pages run, on `flask seed-scale` data (issue 22).

Opens each page with Flask's test client against a PostgreSQL database that `flask seed-scale`
filled, records the statements the page runs (with their parameters), then runs each SELECT
again under EXPLAIN (ANALYZE, BUFFERS) and prints: the page, the statement's time, any
sequential scan of a big table, and (with --plans) the plan itself.

    BOOKING_SQLALCHEMY_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/scale \\
        flask --app wsgi seed-scale --password correct-horse-battery
    python benchmarks/explain_pages.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scale \\
        --password correct-horse-battery --plans

Pages: booking day and time steps, practitioner week view, reception day sheet, patient
search (name, date of birth, phone), patient account, plan page, availability API. The last
line is one JSON object: per page, the number of statements, their total ms and the tables
read by a sequential scan.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Tables big enough at chain scale that a sequential scan of them matters.
BIG = ("appointment", "patient_profile", "user", "plan_appointment", "outcome_record")
SEQ = re.compile(r"Seq Scan on (\w+)")
DESK = "reception@scale.example"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a seed-scale'd PostgreSQL URL")
    parser.add_argument("--password", required=True, help="the password seed-scale printed")
    parser.add_argument("--plans", action="store_true", help="print every plan in full")
    parser.add_argument("--page", action="append", help="only these pages (repeatable)")
    parser.add_argument(
        "--try-index",
        action="append",
        default=[],
        help="CREATE INDEX ... to try: made in the EXPLAIN transaction, rolled back at the end",
    )
    return parser.parse_args()


@contextmanager
def recorded(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    from sqlalchemy import event

    statements: list[tuple[str, Any]] = []

    def listener(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        statements.append((statement, params))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def sign_in(client: Any, email: str, password: str) -> None:
    response = client.post("/auth/sign-in", data={"email": email, "password": password})
    if response.status_code != 302:
        raise SystemExit(f"sign-in as {email} failed ({response.status_code})")


def main() -> int:
    args = parse_args()
    import psycopg
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url

    from booking import create_app
    from booking.demo.scale import TIMED_KIND
    from booking.extensions import db
    from booking.models import (
        Appointment,
        PatientProfile,
        Practitioner,
        TreatmentPlan,
        User,
    )

    app = create_app(
        {
            "DEVELOPMENT": True,
            "SECRET_KEY": secrets.token_hex(32),
            "SQLALCHEMY_DATABASE_URI": args.database_url,
            "WTF_CSRF_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "AUTH_RATELIMIT_PER_IP": "10000/minute",
        }
    )
    now = datetime.now(UTC)
    with app.app_context():
        engine = db.engine
        plan = db.session.scalars(
            select(TreatmentPlan).where(TreatmentPlan.status == "active").limit(1)
        ).one()
        practitioner = db.session.get_one(Practitioner, plan.practitioner_id)
        practitioner_email = db.session.get_one(User, practitioner.user_id).email
        # A patient with an account and the most sessions among the first accounts.
        patient_email = db.session.scalar(
            select(User.email)
            .join(PatientProfile, PatientProfile.user_id == User.id)
            .join(Appointment, Appointment.patient_id == PatientProfile.id)
            .where(PatientProfile.id <= 2001)
            .group_by(User.email)
            .order_by(func.count().desc())
            .limit(1)
        )
        sample = db.session.get(PatientProfile, 4242) or db.session.get_one(PatientProfile, 1)
        if patient_email is None:
            raise SystemExit("no patient account: was this database filled by seed-scale?")
        location_id, practitioner_id = plan.location_id, plan.practitioner_id
        db.session.remove()
    monday = (now + timedelta(days=7 - now.weekday())).date()
    day = monday + timedelta(days=2)
    base = f"session_type_id={TIMED_KIND.type_id}&location_id={location_id}"

    def journey(client: Any) -> None:
        client.get(f"/book?type={TIMED_KIND.slug}")
        client.post("/book/location", data={"location": str(location_id)})
        client.post("/book/practitioner", data={"practitioner": str(practitioner_id)})

    # The first day with free times for this practitioner, as the day step offers it.
    probe = app.test_client()
    journey(probe)
    offered = re.findall(
        r'name="day"[^>]*value="(\d{4}-\d\d-\d\d)"',
        probe.get(f"/book/day?week={monday.isoformat()}").get_data(as_text=True),
    )
    day = date.fromisoformat(offered[0]) if offered else day

    def journey_day(client: Any) -> None:
        journey(client)
        client.post(f"/book/day?week={monday.isoformat()}", data={"day": day.isoformat()})

    search_name = f"{sample.given_name} {sample.family_name}"
    pages: list[tuple[str, str | None, Any, str]] = [
        ("booking day step", None, journey, f"/book/day?week={monday.isoformat()}"),
        ("booking time step", None, journey_day, f"/book/time?day={day.isoformat()}"),
        (
            "availability API",
            None,
            None,
            f"/api/v1/availability?{base}&practitioner_id={practitioner_id}"
            f"&from={monday.isoformat()}&to={(monday + timedelta(days=6)).isoformat()}",
        ),
        ("practitioner week view", practitioner_email, None, f"/practitioner/week?start={day}"),
        ("reception day sheet", DESK, None, "/reception/"),
    ]
    born = sample.date_of_birth.strftime("%d/%m/%Y") if sample.date_of_birth else "01/01/1970"
    for label, typed in (
        ("name", search_name),
        ("family prefix", "smi"),
        ("date of birth", born),
        ("phone", sample.phone or ""),
        ("email", sample.email),
    ):
        pages.append(
            (f"patient search: {label}", DESK, None, f"/reception/patients?q={quote(typed)}")
        )
    pages += [
        ("patient account", patient_email, None, "/patient/"),
        ("plan page", practitioner_email, None, f"/practitioner/plans/{plan.id}"),
    ]
    url = make_url(args.database_url).set(drivername="postgresql")
    report: dict[str, Any] = {}
    with psycopg.connect(url.render_as_string(hide_password=False)) as pg:
        for ddl in args.try_index:
            pg.execute(ddl)
        if args.try_index:
            pg.execute("ANALYZE appointment")
        for name, email, before, path in pages:
            if args.page and name not in args.page:
                continue
            client = app.test_client()
            if email:
                sign_in(client, email, args.password)
            if before:
                before(client)
            client.get(path)  # warm the caches a page keeps per process
            with recorded(engine) as statements:
                response = client.get(path)
            print(
                f"\n=== {name}: GET {path} -> {response.status_code}, {len(statements)} statements"
            )
            total, scans = 0.0, set()
            for statement, params in statements:
                head = statement.lstrip().split(None, 1)[0].upper()
                if head not in ("SELECT", "WITH"):
                    print(f"  (not explained: {statement.strip()[:80]})")
                    continue
                with pg.cursor() as cur:
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params or None)
                    plan_lines = [row[0] for row in cur.fetchall()]
                took = float(re.search(r"Execution Time: ([\d.]+)", plan_lines[-1]).group(1))  # type: ignore[union-attr]
                total += took
                seqs = {t for line in plan_lines for t in SEQ.findall(line) if t in BIG}
                scans |= seqs
                flag = f"  SEQ SCAN {sorted(seqs)}" if seqs else ""
                print(f"  {took:8.2f} ms  {' '.join(statement.split())[:150]}{flag}")
                if args.plans or seqs:
                    for line in plan_lines:
                        print(f"      {line}")
            report[name] = {
                "statements": len(statements),
                "total_ms": round(total, 2),
                "seq_scans": sorted(scans),
            }
        pg.rollback()  # nothing to keep: the tried indexes go too
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
