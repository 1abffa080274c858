"""B1 through the API: 50 concurrent POSTs for one slot on `gunicorn -w 4`, both engines.

Each client sends the same booking (new patients, so only the slot is shared) after a
barrier releases them together: exactly one 201, 49 409 problem+json, no overlapping rows.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from booking import clock
from booking.extensions import db
from booking.models import Appointment, OutboxMessage, Practitioner, SessionType
from booking.services.api.tokens import create_token
from tests.concurrency.conftest import Gunicorn, overlapping_live_pairs
from tests.conftest import DEMO_EMAILS

pytestmark = [pytest.mark.concurrency, pytest.mark.xdist_group("gunicorn")]
CLIENTS = 50


def call(
    port: int, method: str, path: str, body: Any = None, token: str | None = None
) -> tuple[int, str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, response.getheader("Content-Type", ""), json.loads(data or b"null")


@pytest.mark.matrix("B1")
def test_fifty_api_posts_for_one_slot_book_it_once(gunicorn_server: Gunicorn) -> None:
    app = gunicorn_server.app
    with app.app_context():
        _, token = create_token(email=DEMO_EMAILS["receptionist"], name="race", now=clock.utcnow())
        db.session.commit()
        mei = db.session.scalar(
            select(Practitioner.id).where(Practitioner.display_name == "Mei Lin Chen")
        )
        follow_up = db.session.scalar(
            select(SessionType.id).where(SessionType.slug == "follow-up-acupuncture")
        )
        db.session.remove()
    today = clock.utcnow().date()
    status, _, free = call(
        gunicorn_server.port,
        "GET",
        f"/api/v1/availability?session_type_id={follow_up}&practitioner_id={mei}"
        f"&from={today + timedelta(days=1)}&to={today + timedelta(days=14)}",
    )
    assert status == 200, free
    start = free["items"][0]["start"]
    barrier = threading.Barrier(CLIENTS)

    def attempt(index: int) -> tuple[int, str, Any]:
        body = {
            "session_type_id": follow_up,
            "practitioner_id": mei,
            "start": start,
            "patient": {
                "email": f"race{index}@example.com",
                "given_name": "Race",
                "family_name": f"Patient {index}",
                "date_of_birth": "1980-04-03",
            },
        }
        barrier.wait()
        return call(gunicorn_server.port, "POST", "/api/v1/appointments", body, token)

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        outcomes = list(pool.map(attempt, range(CLIENTS)))
    statuses = Counter(status for status, _, _ in outcomes)
    assert statuses == {201: 1, 409: CLIENTS - 1}, (statuses, gunicorn_server.log()[-3000:])
    for status, content_type, body in outcomes:
        if status == 409:
            assert content_type.startswith("application/problem+json")
            assert body["status"] == 409
    winner = next(body for status, _, body in outcomes if status == 201)
    assert winner["start"] == start
    with app.app_context():
        live = db.session.scalar(
            select(func.count(Appointment.id)).where(Appointment.status == "booked")
        )
        mail = db.session.scalar(select(func.count(OutboxMessage.id)))
        db.session.remove()
    assert (live, mail) == (1, 1)
    assert overlapping_live_pairs(app) == 0
    log = gunicorn_server.log()
    assert "Traceback" not in log
    assert "database is locked" not in log
