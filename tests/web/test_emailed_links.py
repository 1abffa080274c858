"""Links that leave the app are built on BASE_URL, never the request's Host (issue 13 item 3).

Every request here carries `Host: evil.example`, as an attacker's would; `TRUSTED_HOSTS` is
off so the forged host reaches the views (a proxy that passes it on, or no host check).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import OutboxMessage
from tests.conftest import DEMO_EMAILS, make_app, seed_demo, sign_in
from tests.web.booking_helpers import Clock, book, demo_ids, hold, post, to_time
from tests.web.intake_helpers import book_first_visit, guest_patient_id

BASE_URL = "https://clinic.example"
EVIL = "evil.example"
_URL = re.compile(r"https?://\S+")


@pytest.fixture
def forged(engine_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The demo clinic with a configured base URL and no trusted-host check."""
    with make_app(engine_name, tmp_path, request, BASE_URL=BASE_URL, TRUSTED_HOSTS=None) as app:
        seed_demo(app)
        yield app


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


class EvilClient(FlaskClient):
    """A client whose every request says `Host: evil.example` (its cookies follow that host)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("headers", {})["Host"] = EVIL
        return super().open(*args, **kwargs)


def evil_client(app: Flask) -> FlaskClient:
    return EvilClient(app, app.response_class, use_cookies=True)


def mail(app: Flask, kind: str) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(OutboxMessage.body_text)
                .where(OutboxMessage.kind == kind)
                .order_by(OutboxMessage.id)
            )
        )


def links_in(body: str) -> list[str]:
    found = _URL.findall(body)
    assert found, body
    return found


def assert_on_base_url(bodies: list[str]) -> None:
    assert bodies, "no email was queued"
    for body in bodies:
        assert EVIL not in body
        for link in links_in(body):
            assert link.startswith(BASE_URL + "/"), link


def test_booking_confirmation_email_ignores_the_host_header(forged: Flask, clock: Clock) -> None:
    client = evil_client(forged)
    token = book(client, demo_ids(forged))
    confirmation = mail(forged, "appointment.confirmation")
    assert_on_base_url(confirmation)
    assert f"{BASE_URL}/manage/{token}" in confirmation[0]
    # The confirmation page links to the same place without naming the forged host.
    assert EVIL not in client.get("/book/confirmation").get_data(as_text=True)


def test_manage_link_email_ignores_the_host_header(forged: Flask, clock: Clock) -> None:
    book(forged.test_client(), demo_ids(forged))
    client = evil_client(forged)
    assert post(client, "/manage-link", {"email": "jo@example.com"}).status_code == 303
    sent = mail(forged, "appointment.manage_link")
    assert_on_base_url(sent)
    (link,) = links_in(sent[0])
    assert re.fullmatch(re.escape(BASE_URL) + r"/manage/[A-Za-z0-9_\-]{43}", link)


def test_find_you_email_ignores_the_host_header(forged: Flask, clock: Clock) -> None:
    client = evil_client(forged)
    to_time(client, demo_ids(forged))
    hold(client)
    post(client, "/book/returning", {"returning": "yes"})
    response = post(client, "/book/find-you", {"email": "priya.shah@meridian.example"})
    assert response.headers["Location"] == "/book/find-you/sent"
    sent = mail(forged, "booking.find_you")
    assert_on_base_url(sent)
    (link,) = links_in(sent[0])
    assert re.fullmatch(re.escape(BASE_URL) + r"/book/find-you/[A-Za-z0-9_\-]+", link)


def test_intake_reminder_email_ignores_the_host_header(forged: Flask) -> None:
    booked = book_first_visit(forged, guest_patient_id(forged))
    reception = evil_client(forged)
    assert sign_in(reception, DEMO_EMAILS["receptionist"]).status_code == 302
    queue = reception.get("/reception/intake").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', queue).group(1)
    response = reception.post(
        f"/reception/intake/remind/{booked.appointment_id}", data={"csrf_token": token}
    )
    assert response.status_code == 303
    sent = mail(forged, "intake.reminder")
    assert_on_base_url(sent)
    assert f"{BASE_URL}{booked.start_url}" in sent[0]
