"""D1, D2: bookings that were answered survive a crash, and a backup taken during writes restores.

D1: 100 concurrent API bookings on `gunicorn -w 4`; once some have been answered, `kill -9`
of the master and every worker. Every booking answered 201 must be in the database, with no
overlapping live rows (SQLite also passes `PRAGMA integrity_check`).
D2: writers keep booking while `flask backup` runs; the backup restores into an empty database
that passes `PRAGMA integrity_check` (SQLite) and holds every booking answered before the
backup began. Both engines.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from booking import clock
from booking.extensions import db
from booking.models import Appointment, Practitioner, SessionType
from booking.services.api.tokens import create_token
from tests.concurrency.conftest import Gunicorn, overlapping_live_pairs
from tests.conftest import DEMO_EMAILS, IN_CI
from tests.databases import empty_app

pytestmark = [pytest.mark.concurrency, pytest.mark.xdist_group("gunicorn")]
BOOKINGS = 100


def _post(port: int, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/api/v1/appointments",
            body=json.dumps(body),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def _setup(server: Gunicorn, *, apart: bool = False) -> tuple[str, list[dict[str, Any]]]:
    """A token and booking bodies for starts Mei Lin has free in the next three weeks.

    By default 100 bodies over 60 neighbouring starts (real contention); `apart` keeps only
    starts 90 minutes apart, so every booking can succeed.
    """
    with server.app.app_context():
        _, token = create_token(email=DEMO_EMAILS["receptionist"], name="d", now=clock.utcnow())
        db.session.commit()
        mei = db.session.scalar(
            select(Practitioner.id).where(Practitioner.display_name == "Mei Lin Chen")
        )
        follow_up = db.session.scalar(
            select(SessionType.id).where(SessionType.slug == "follow-up-acupuncture")
        )
        db.session.remove()
    today = clock.utcnow().date()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request(
        "GET",
        f"/api/v1/availability?session_type_id={follow_up}&practitioner_id={mei}"
        f"&from={today + timedelta(days=1)}&to={today + timedelta(days=21)}&limit=200",
    )
    free = json.loads(conn.getresponse().read())
    conn.close()
    starts = [item["start"] for item in free["items"]]
    assert len(starts) >= 60, len(starts)
    if apart:
        kept: list[str] = []
        for start in starts:
            if not kept or datetime.fromisoformat(start) - datetime.fromisoformat(
                kept[-1]
            ) >= timedelta(minutes=90):
                kept.append(start)
        starts = kept
    bodies = [
        {
            "session_type_id": follow_up,
            "practitioner_id": mei,
            "start": starts[index] if apart else starts[index % 60],  # neighbours overlap
            "patient": {
                "email": f"durable{index}@example.com",
                "given_name": "Durable",
                "family_name": f"Patient {index}",
                "date_of_birth": "1980-04-03",
            },
        }
        for index in range(len(starts) if apart else BOOKINGS)
    ]
    return token, bodies


def _kill_all(server: Gunicorn) -> None:
    """SIGKILL the master and every worker (found through /proc, by parent pid)."""
    master = server.process.pid
    workers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                workers.append(int(entry.name))
    assert workers, "no gunicorn workers found"
    for pid in [master, *workers]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.process.wait(timeout=10)


def _booked_ids(app: Flask) -> set[int]:
    with app.app_context():
        ids = set(db.session.scalars(select(Appointment.id).where(Appointment.status == "booked")))
        db.session.remove()
        return ids


@pytest.mark.matrix("D1")
def test_kill_9_mid_bookings_loses_no_answered_booking(gunicorn_server: Gunicorn) -> None:
    token, bodies = _setup(gunicorn_server)
    answered: list[int] = []
    lock = threading.Lock()
    killed = threading.Event()
    barrier = threading.Barrier(len(bodies))

    def attempt(body: dict[str, Any]) -> str:
        barrier.wait()
        try:
            status, data = _post(gunicorn_server.port, token, body)
        except (OSError, http.client.HTTPException):
            # Refused, reset, or killed part-way through writing its answer (IncompleteRead):
            # not answered, so not among the bookings that must survive.
            return "cut off"
        if status == 201:
            with lock:
                answered.append(data["id"])
                if len(answered) >= 10 and not killed.is_set():
                    killed.set()
                    _kill_all(gunicorn_server)
        return str(status)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        outcomes = list(pool.map(attempt, bodies))
    assert killed.is_set(), outcomes
    assert "cut off" in outcomes, "the kill came after every request had finished"
    assert set(answered) <= _booked_ids(gunicorn_server.app)
    assert overlapping_live_pairs(gunicorn_server.app) == 0
    if gunicorn_server.database_uri.startswith("sqlite"):
        with gunicorn_server.app.app_context():
            assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            db.session.remove()


@pytest.fixture
def restore_target(gunicorn_server: Gunicorn, tmp_path: Path) -> Iterator[Flask]:
    """An app on an empty database of the server's engine, for the restore."""
    if not gunicorn_server.database_uri.startswith("sqlite") and not shutil.which("pg_dump"):
        if IN_CI:
            pytest.fail("pg_dump is needed for the PostgreSQL backup test in CI")
        pytest.skip("pg_dump is not installed")
    with empty_app(gunicorn_server.database_uri, tmp_path) as target:
        yield target


@pytest.mark.matrix("D2")
def test_backup_during_writes_restores_every_earlier_booking(
    gunicorn_server: Gunicorn, restore_target: Flask, tmp_path: Path
) -> None:
    token, bodies = _setup(gunicorn_server, apart=True)
    committed: list[tuple[float, int]] = []  # (answered at, appointment id)
    statuses: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    queue = iter(bodies)

    def writer() -> None:
        while not stop.is_set():
            with lock:
                body = next(queue, None)
            if body is None:
                return
            status, data = _post(gunicorn_server.port, token, body)
            with lock:
                statuses.append(status)
                if status == 201:
                    committed.append((time.monotonic(), data["id"]))

    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(4):
            pool.submit(writer)
        while len(committed) < 10:
            time.sleep(0.01)
        began = time.monotonic()
        path = tmp_path / "during-writes.backup"
        result = gunicorn_server.app.test_cli_runner().invoke(args=["backup", str(path)])
        stop.set()
    assert result.exit_code == 0, result.output
    before = {appointment for at, appointment in committed if at < began}
    assert any(at > began for at, _ in committed), (began, committed, statuses)

    restored = restore_target.test_cli_runner().invoke(args=["restore", str(path)])
    assert restored.exit_code == 0, restored.output
    assert before <= _booked_ids(restore_target)
    assert overlapping_live_pairs(restore_target) == 0
    # gunicorn's own lines (gunicorn.conf.py): JSON with the request id, no query strings.
    lines = [json.loads(line) for line in gunicorn_server.log().splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert len(access) >= len(committed)
    assert all(line["request_id"] for line in access)
    assert "session_type_id=" not in gunicorn_server.log()  # the availability query string
    if gunicorn_server.database_uri.startswith("sqlite"):
        with restore_target.app_context():
            assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            db.session.remove()
