"""Reminders and delivery at chain scale (issue 18): plan reminders, then send 10,000 emails.

1. Planning: the chain of benchmarks/availability.py (its own loader: 10 locations, 100
   practitioners, N appointments over two years, 1,000,000 by default) and the reminder
   planner run as the worker runs it, once a simulated minute-step over a day of booked
   sessions, each pass in its own app context and committed. Reports each pass's time (p50,
   p99, max), the first pass (which catches up a whole day), the reminders written, how many
   sessions should have had one, and duplicates (rows sharing session x kind x start).
2. Sending: 10,000 queued messages, two `flask send-outbox` processes at once against a local
   aiosmtpd server. Reports messages per second (first to last message received, and from
   the processes' start), how each process shared the work, and duplicates (messages
   received more than once).

    python benchmarks/outbox.py                  # SQLite, 1,000,000 appointments
    python benchmarks/outbox.py --quick          # 100,000 appointments, 2,000 messages
    python benchmarks/outbox.py --engine postgresql \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Prints a table, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time as clock
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import availability as chain  # noqa: E402 - benchmarks/ is this script's folder

# A Monday in the booked half of the chain's two years, 07:00 UTC.
PLAN_START = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help="PostgreSQL server URL (as availability.py)")
    parser.add_argument("--database-name", default="bench_outbox")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--appointments", type=int, default=1_000_000)
    size.add_argument("--quick", action="store_true", help="100,000 appointments, 2,000 emails")
    size.add_argument("--tiny", action="store_true", help="smoke test size")
    parser.add_argument("--messages", type=int, default=10_000, help="emails to send")
    parser.add_argument("--plan-hours", type=int, default=24, help="simulated hours of passes")
    parser.add_argument("--plan-step", type=int, default=5, help="minutes between passes")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.appointments, args.messages, args.plan_step = 100_000, 2_000, 15
    if args.tiny:
        args.appointments, args.messages, args.plan_hours, args.plan_step = 300, 50, 2, 30
    if args.engine == "postgresql":
        args.database_url = (
            args.database_url
            or os.environ.get("BENCH_DATABASE_URL")
            or os.environ.get("TEST_DATABASE_URL")
        )
        if not args.database_url:
            parser.error("--engine postgresql needs --database-url (or $BENCH_DATABASE_URL)")
    return args


say = chain.say


def seed(args: argparse.Namespace, url: str) -> Any:
    """The chain and its appointments with seed-scale's code (availability.seed_chain)."""
    layout = chain.make_layout(seed=args.seed)
    app = chain.make_app(url)
    chain.migrate(app)
    rows = chain.generate(layout, args.appointments, args.seed)
    chain.seed_chain(app, layout, rows)
    return app


def plan(app: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Planning passes every `plan_step` minutes over `plan_hours`; time each."""
    from sqlalchemy import func, select

    from booking.db_hooks import WRITE_TX
    from booking.extensions import db
    from booking.models import Appointment, AppointmentStatus, OutboxMessage
    from booking.services.reminders.planning import LEADS, MailSettings, plan_reminders

    settings = MailSettings(
        base_url="https://bench.example", secret=app.config["SECRET_KEY"], clinic_name="Bench"
    )
    WRITE_TX.set(True)
    times: list[float] = []
    planned = 0
    passes = args.plan_hours * 60 // args.plan_step + 1
    for index in range(passes):
        now = PLAN_START + timedelta(minutes=index * args.plan_step)
        with app.app_context():
            start = clock.perf_counter()
            planned += plan_reminders(now=now, settings=settings)
            db.session.commit()
            times.append((clock.perf_counter() - start) * 1000)
    last = PLAN_START + timedelta(minutes=(passes - 1) * args.plan_step)
    with app.app_context():
        lead = LEADS["reminder.24h"]
        expected = db.session.scalar(
            select(func.count()).where(
                Appointment.status == AppointmentStatus.booked,
                Appointment.starts_at > PLAN_START,
                Appointment.starts_at <= last + lead,
            )
        )
        keys = select(
            OutboxMessage.appointment_id, OutboxMessage.kind, OutboxMessage.appointment_starts_at
        ).distinct()
        distinct = db.session.scalar(select(func.count()).select_from(keys.subquery()))
        written = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        db.session.remove()
    ordered = sorted(times)
    return {
        "passes": passes,
        "planned": planned,
        "expected": expected,
        "duplicates": written - distinct,
        "first_ms": times[0],
        "p50_ms": chain.percentile(ordered[1:] or ordered, 50),
        "p99_ms": chain.percentile(ordered, 99),
        "p99_after_first_ms": chain.percentile(sorted(times[1:]) or ordered, 99),
        "max_ms": ordered[-1],
    }


def queue(app: Any, count: int) -> None:
    """Replace the outbox with `count` due messages, inserted in bulk."""
    from sqlalchemy import delete

    from booking.extensions import db
    from booking.models import OutboxMessage

    due = datetime.now(UTC) - timedelta(minutes=1)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(delete(OutboxMessage))
        for first in range(0, count, 1000):
            conn.execute(
                OutboxMessage.__table__.insert(),
                [
                    {
                        "kind": "bench",
                        "recipient": f"bench{n}@bench.example",
                        "subject": f"Benchmark message {n}",
                        "body_text": "A benchmark message.\n" * 10,
                        "dedupe_key": f"bench:{n}",
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": due,
                        "created_at": due,
                        "essential": True,
                    }
                    for n in range(first, min(count, first + 1000))
                ],
            )
    with app.app_context():
        db.engine.dispose()


def send(url: str, count: int) -> dict[str, Any]:
    """Two `send-outbox` processes at once against a local aiosmtpd; wait for both."""
    from tests.smtp import Inbox, smtp_server

    stamps: list[float] = []
    lock = threading.Lock()
    original = Inbox.handle_DATA

    async def timed(self: Inbox, server: Any, session: Any, envelope: Any) -> str:
        answer = await original(self, server, session, envelope)
        with lock:
            stamps.append(clock.perf_counter())
        return answer

    Inbox.handle_DATA = timed  # type: ignore[method-assign]
    with smtp_server() as (inbox, port):
        env = {
            **os.environ,
            "BOOKING_DEVELOPMENT": "true",
            "BOOKING_SECRET_KEY": "bench-secret-key-long-enough-for-the-start-up-check",
            "BOOKING_SQLALCHEMY_DATABASE_URI": url,
            "BOOKING_SMTP_PORT": str(port),
            "BOOKING_LOG_LEVEL": "WARNING",
        }
        began = clock.perf_counter()
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "send-outbox", "--limit", "100"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [worker.communicate(timeout=1800)[0] for worker in workers]
        elapsed = clock.perf_counter() - began
        codes = [worker.returncode for worker in workers]
        received = [str(message["To"]).strip() for message in inbox.messages]
    if codes != [0, 0]:
        raise SystemExit(f"send-outbox failed: {outputs}")
    per_worker = [_sent(output) for output in outputs]
    window = (stamps[-1] - stamps[0]) if len(stamps) > 1 else elapsed
    return {
        "messages": count,
        "received": len(received),
        "duplicates": len(received) - len(Counter(received)),
        "missing": count - len(set(received)),
        "per_worker": per_worker,
        "seconds": elapsed,
        "per_second": len(received) / window if window else 0.0,
        "per_second_with_startup": len(received) / elapsed,
    }


def _sent(output: str) -> int:
    for line in output.splitlines():
        if "sent " in line:
            return int(line.split("sent ")[1].split(" ")[0])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = clock.perf_counter()
    say(
        f"outbox benchmark: {args.engine}, {args.appointments:,} appointments, "
        f"{args.messages:,} messages, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with chain.database(args) as (url, _target):
        start = clock.perf_counter()
        app = seed(args, url)
        seed_seconds = clock.perf_counter() - start
        say(f"  seeded in {seed_seconds:.1f} s")
        planning = plan(app, args)
        say(f"  {planning['passes']} planning passes done")
        queue(app, args.messages)
        sending = send(url, args.messages)
    say("")
    say(f"{'measure':<48}{'value':>14}")
    say("-" * 62)
    rows = [
        ("appointments", f"{args.appointments:,}"),
        (f"planning passes ({args.plan_step}-minute steps)", f"{planning['passes']}"),
        ("first pass, catching up a day (ms)", f"{planning['first_ms']:.1f}"),
        ("pass p50 (ms)", f"{planning['p50_ms']:.1f}"),
        ("pass p99 (ms)", f"{planning['p99_ms']:.1f}"),
        ("pass p99 after the first (ms)", f"{planning['p99_after_first_ms']:.1f}"),
        ("pass max (ms)", f"{planning['max_ms']:.1f}"),
        ("reminders planned / sessions due one", f"{planning['planned']} / {planning['expected']}"),
        ("duplicate reminders planned", f"{planning['duplicates']}"),
        ("messages queued / received", f"{sending['messages']} / {sending['received']}"),
        ("sent by each worker", " / ".join(str(n) for n in sending["per_worker"])),
        ("messages per second (first to last received)", f"{sending['per_second']:.1f}"),
        (
            "messages per second (with process start-up)",
            f"{sending['per_second_with_startup']:.1f}",
        ),
        ("duplicate messages received", f"{sending['duplicates']}"),
        ("messages never received", f"{sending['missing']}"),
    ]
    for label, value in rows:
        say(f"{label:<48}{value:>14}")
    say("")
    summary = {
        "benchmark": "outbox",
        "engine": args.engine,
        "cores": os.cpu_count(),
        "appointments": args.appointments,
        "plan_passes": planning["passes"],
        "plan_step_minutes": args.plan_step,
        "plan_first_ms": round(planning["first_ms"], 3),
        "plan_p50_ms": round(planning["p50_ms"], 3),
        "plan_p99_ms": round(planning["p99_ms"], 3),
        "plan_p99_after_first_ms": round(planning["p99_after_first_ms"], 3),
        "plan_max_ms": round(planning["max_ms"], 3),
        "reminders_planned": planning["planned"],
        "reminders_expected": planning["expected"],
        "plan_duplicates": planning["duplicates"],
        "messages": sending["messages"],
        "messages_received": sending["received"],
        "messages_per_second": round(sending["per_second"], 2),
        "messages_per_second_with_startup": round(sending["per_second_with_startup"], 2),
        "sent_per_worker": sending["per_worker"],
        "send_duplicates": sending["duplicates"],
        "send_missing": sending["missing"],
        "duplicates": planning["duplicates"] + sending["duplicates"],
        "seed_seconds": round(seed_seconds, 2),
        "total_seconds": round(clock.perf_counter() - began, 2),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
    }
    print(json.dumps(summary), flush=True)
    return 0 if summary["duplicates"] == 0 and sending["missing"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
