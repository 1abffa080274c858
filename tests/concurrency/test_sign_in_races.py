"""A3 on a real `gunicorn -w 4`, SQLite and PostgreSQL: the brute-force counter and the
per-address limit live in the database, so every worker sees every other worker's count.

Eight browsers send a wrong password for one account at once: exactly five failures are
counted (the counter row is locked while each is checked), the rest are refused unchecked,
and then the right password is refused too, with the same answer. Once the lock-out has run
its 15 minutes the right password signs in. The 21st password POST of the minute is a 429.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from booking.extensions import db
from booking.models import SignInThrottle, UserSession
from booking.services.accounts.sign_in import throttle_key
from tests.concurrency.conftest import Gunicorn
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD
from tests.http_client import Client

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.xdist_group("gunicorn"),
    pytest.mark.matrix("A3"),
]
CLIENTS = 8
SIGN_IN_FAILED = "Enter a correct email address and password"


def _ready(server: Gunicorn) -> Client:
    """A new browser holding the sign-in form (its cookie and CSRF token)."""
    client = Client(server.port)
    status, _, _ = client.get("/auth/sign-in")
    assert status == 200
    return client


def _post(client: Client, email: str, password: str) -> tuple[int, str]:
    data = {"csrf_token": client.csrf(), "email": email, "password": password}
    status, _, body = client.request("POST", "/auth/sign-in", data)
    return status, body


def _counter(server: Gunicorn, email: str) -> SignInThrottle | None:
    with server.app.app_context():
        row = db.session.get(SignInThrottle, throttle_key(email))
        db.session.expunge_all()
        db.session.remove()
        return row


def test_the_sixth_attempt_is_refused_across_four_workers(gunicorn_server: Gunicorn) -> None:
    email = DEMO_EMAILS["admin"]
    clients = [_ready(gunicorn_server) for _ in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS)

    def guess(client: Client) -> tuple[int, str]:
        barrier.wait()
        return _post(client, email, "not-the-password")

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(guess, clients))

    assert [status for status, _ in answers] == [200] * CLIENTS, gunicorn_server.log()[-3000:]
    assert all(SIGN_IN_FAILED in body for _, body in answers)
    row = _counter(gunicorn_server, email)
    assert row is not None
    assert row.failures == 5  # five checked and counted, three refused unchecked
    assert row.locked_until is not None

    status, body = _post(_ready(gunicorn_server), email, DEMO_PASSWORD)
    assert status == 200
    assert SIGN_IN_FAILED in body
    with gunicorn_server.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
        db.session.remove()

    # 15 minutes on: the lock-out (and the window) have passed.
    with gunicorn_server.app.app_context():
        db.session.execute(
            update(SignInThrottle)
            .where(SignInThrottle.email_hash == row.email_hash)
            .values(
                window_started_at=row.window_started_at - timedelta(minutes=15),
                locked_until=row.locked_until - timedelta(minutes=15),
            )
        )
        db.session.commit()
        db.session.remove()
    status, _ = _post(_ready(gunicorn_server), email, DEMO_PASSWORD)
    assert status == 302
    assert _counter(gunicorn_server, email) is None

    # 10 password POSTs so far from 127.0.0.1, whichever workers took them: 10 more pass,
    # the 21st of the minute is refused.
    client = _ready(gunicorn_server)
    statuses = [_post(client, f"guess{n}@example.com", "x" * 12)[0] for n in range(11)]
    assert statuses == [200] * 10 + [429]
    log = gunicorn_server.log()
    assert "database is locked" not in log
    assert "Traceback" not in log
