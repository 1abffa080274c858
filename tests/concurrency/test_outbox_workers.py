"""Two `flask worker` processes on one database and one SMTP server: each reminder once.

Real processes and the real clock: 20 sessions booked 30 hours ahead whose 24-hour reminder
is due now, two workers planning and sending every second in parallel (PostgreSQL: SKIP
LOCKED claims and ON CONFLICT planning; SQLite: BEGIN IMMEDIATE), then SIGTERM, which lets
each finish its message and exit cleanly. A `send-outbox` afterwards finds nothing to do.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import base_config
from tests.smtp import smtp_server

pytestmark = [pytest.mark.concurrency, pytest.mark.xdist_group("gunicorn")]

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = 20


def _seed(uri: str) -> None:
    from booking import create_app
    from booking.extensions import db
    from tests.factories import (
        make_appointment,
        make_location,
        make_practitioner,
        make_session_type,
    )

    app = create_app(base_config(uri))
    now = datetime.now(UTC)
    with app.app_context():
        location = make_location()
        session_type = make_session_type()
        for index in range(SESSIONS):
            starts_at = now + timedelta(hours=23, minutes=index)
            make_appointment(
                starts_at=starts_at,
                location=location,
                practitioner=make_practitioner(session_types=[session_type]),
                session_type=session_type,
                booked_at=starts_at - timedelta(hours=30),
            )
        db.session.commit()
        db.engine.dispose()


def _flask(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.matrix("D4")
def test_two_workers_send_each_reminder_exactly_once(
    engine_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if engine_name == "sqlite":
        path = tmp_path / "outbox.sqlite"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        uri = f"sqlite:///{path}"
    else:
        uri = request.getfixturevalue("postgres_url")
    _seed(uri)
    try:
        with smtp_server() as (inbox, port):
            env = {
                **os.environ,
                "BOOKING_DEVELOPMENT": "true",
                "BOOKING_SECRET_KEY": "worker-secret-key-long-enough-for-the-check-012345",
                "BOOKING_SQLALCHEMY_DATABASE_URI": uri,
                "BOOKING_SMTP_PORT": str(port),
            }
            logs = [tmp_path / f"worker{index}.log" for index in range(2)]
            workers = [
                _flask("worker", "--interval", "1", "--limit", "3", env=env, log=log)
                for log in logs
            ]
            deadline = time.monotonic() + 60
            # Wait for every reminder and, after it, two more passes of each worker.
            while time.monotonic() < deadline:
                passes = [log.read_text().count("Planned ") for log in logs]
                if len(inbox.messages) >= SESSIONS and min(passes) >= 3:
                    break
                time.sleep(0.2)
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            codes = [worker.wait(timeout=30) for worker in workers]
            outputs = [log.read_text() for log in logs]
            assert codes == [0, 0], outputs
            assert all("Outbox worker stopped." in output for output in outputs), outputs
            again = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "wsgi", "send-outbox"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            assert "Planned 0 reminder(s); sent 0 message(s)" in again.stdout
            recipients = Counter(str(message["To"]).strip() for message in inbox.messages)
            assert len(recipients) == SESSIONS, outputs
            assert set(recipients.values()) == {1}, outputs
            # Both workers took part (claims with a lease share the work, never duplicate it).
            sent = [
                sum(
                    int(line.split("sent ")[1].split(" ")[0])
                    for line in o.splitlines()
                    if "sent " in line
                )
                for o in outputs
            ]
            assert sum(sent) == SESSIONS
    finally:
        if engine_name == "postgresql":
            from booking import create_app
            from tests.conftest import truncate_all

            truncate_all(create_app(base_config(uri)))
