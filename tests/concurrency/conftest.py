"""A real gunicorn with 4 workers on 127.0.0.1, on SQLite or PostgreSQL, and HTTP clients."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import CHEAP_COST, base_config, seed_demo
from tests.serving import wait_until_answering
from tests.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4


@dataclass
class Gunicorn:
    url: str
    port: int
    database_uri: str
    app: Flask
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def gunicorn_server(
    engine_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Gunicorn]:
    """Migrated, demo-seeded database served by `gunicorn -w 4 wsgi:app`."""
    from booking import create_app

    if engine_name == "sqlite":
        path = tmp_path / "race.sqlite"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        uri = f"sqlite:///{path}"
    else:
        uri = request.getfixturevalue("postgres_url")
    app = create_app(base_config(uri))
    seed_demo(app)
    port = free_port()
    env = {
        **os.environ,
        # Loopback HTTP, not production: plain cookies, any Host (security.md §7).
        "BOOKING_DEVELOPMENT": "true",
        "BOOKING_SECRET_KEY": "race-secret-key-long-enough-for-the-check-0123456789",
        "BOOKING_SQLALCHEMY_DATABASE_URI": uri,
        **{f"BOOKING_{key}": str(value) for key, value in CHEAP_COST.items()},
    }
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",  # production's settings and JSON logger; the options below win
                str(ROOT / "gunicorn.conf.py"),
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
                "--error-logfile",
                "-",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Gunicorn(f"http://127.0.0.1:{port}", port, uri, app, process, log_path)
    try:
        wait_until_answering(port, "/help", processes=[process], log=server.log, what="gunicorn")
    except AssertionError as error:
        process.kill()
        pytest.fail(f"gunicorn did not start: {error}")
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        if engine_name == "postgresql":
            from tests.conftest import truncate_all

            truncate_all(app)


OVERLAPPING_PAIRS = """
SELECT COUNT(*) FROM appointment a JOIN appointment b ON a.id < b.id
WHERE a.status IN ('held', 'booked', 'checked_in', 'completed')
  AND b.status IN ('held', 'booked', 'checked_in', 'completed')
  AND a.busy_from < b.busy_until AND b.busy_from < a.busy_until
  AND (a.practitioner_id = b.practitioner_id
       OR (a.room_id = b.room_id AND a.room_place = b.room_place))
"""


def overlapping_live_pairs(app: Flask) -> int:
    """Whole-table self-join: live rows of one practitioner or one room place that overlap."""
    from sqlalchemy import text

    from booking.extensions import db

    with app.app_context():
        count = db.session.execute(text(OVERLAPPING_PAIRS)).scalar_one()
        db.session.remove()
        return count
