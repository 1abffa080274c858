"""Links sent by email on request: rate limits, and a new link never kills the old one unused.

Issue 13 item 7: `/manage-link` and `/book/find-you` are limited per address (the same page
as success, so nothing is revealed) and per IP (429 page), on the limiter's shared store;
a manage link asked for again leaves the earlier one working until the new one is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.book.link_limits import (
    DEFAULT_EMAIL_LINK_RATELIMIT_PER_ADDRESS,
    DEFAULT_EMAIL_LINK_RATELIMIT_PER_IP,
)
from booking.extensions import db
from booking.models import OutboxMessage, WaitlistEntry
from tests.conftest import csrf_from, make_app, seed_demo
from tests.web.booking_helpers import (
    Clock,
    book,
    demo_ids,
    error_summary,
    hold,
    post,
    text,
    to_time,
)

JO = "jo@example.com"  # the address `book` books with


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def limited(engine_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The demo clinic with the production limits (stated here so a change is noticed)."""
    assert DEFAULT_EMAIL_LINK_RATELIMIT_PER_ADDRESS == "5/hour"
    assert DEFAULT_EMAIL_LINK_RATELIMIT_PER_IP == "20/minute"
    with make_app(engine_name, tmp_path, request) as app:
        seed_demo(app)
        yield app


def outbox(app: Flask, kind: str) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(OutboxMessage.body_text)
                .where(OutboxMessage.kind == kind)
                .order_by(OutboxMessage.id)
            )
        )


def outbox_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(OutboxMessage.id)))


def ask_for_link(client: FlaskClient, email: str, address: str = "127.0.0.1") -> object:
    token = csrf_from(client.get("/manage-link").get_data(as_text=True))
    return client.post(
        "/manage-link",
        data={"email": email, "csrf_token": token},
        environ_overrides={"REMOTE_ADDR": address},
    )


def newest_manage_token(app: Flask) -> str:
    return outbox(app, "appointment.manage_link")[-1].split("/manage/")[1].split()[0]


# ---- Per address ------------------------------------------------------------------------------


def test_the_sixth_manage_link_request_for_one_address_sends_nothing(
    limited: Flask, clock: Clock
) -> None:
    book(limited.test_client(), demo_ids(limited))
    client = limited.test_client()
    answers = [ask_for_link(client, JO, address=f"192.0.2.{n}") for n in range(5)]
    assert [a.headers["Location"] for a in answers] == ["/manage-link/sent"] * 5
    assert len(outbox(limited, "appointment.manage_link")) == 5
    before = outbox_count(limited)

    sixth = ask_for_link(client, JO, address="192.0.2.99")  # another IP: the address counts

    # The same answer as success, so the page says nothing about the address.
    assert sixth.status_code == 303
    assert sixth.headers["Location"] == "/manage-link/sent"
    assert outbox_count(limited) == before
    # Capitals do not make a new address; another address has its own budget.
    assert ask_for_link(client, "JO@Example.com").headers["Location"] == "/manage-link/sent"
    assert outbox_count(limited) == before
    assert ask_for_link(client, "someone.else@example.com").status_code == 303


def test_find_you_is_limited_per_address_with_the_page_of_success(
    limited: Flask, clock: Clock
) -> None:
    client = limited.test_client()
    to_time(client, demo_ids(limited))
    hold(client)
    post(client, "/book/returning", {"returning": "yes"})
    email = "priya.shah@meridian.example"
    for _ in range(5):
        response = post(client, "/book/find-you", {"email": email})
        assert response.headers["Location"] == "/book/find-you/sent"
    assert len(outbox(limited, "booking.find_you")) == 5

    sixth = post(client, "/book/find-you", {"email": email})

    assert sixth.status_code == 303
    assert sixth.headers["Location"] == "/book/find-you/sent"
    assert len(outbox(limited, "booking.find_you")) == 5
    assert "priya.shah@meridian.example" in text(client.get("/book/find-you/sent"))


# ---- Per IP -----------------------------------------------------------------------------------


def test_the_21st_emailed_link_request_from_one_ip_is_429(limited: Flask, clock: Clock) -> None:
    book(limited.test_client(), demo_ids(limited))
    client = limited.test_client()
    statuses = [ask_for_link(client, f"guess{n}@example.com").status_code for n in range(20)]
    assert statuses == [303] * 20
    before = outbox_count(limited)

    refused = ask_for_link(client, JO)

    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert '<h1 class="govuk-heading-l">Too many requests</h1>' in refused.get_data(as_text=True)
    assert outbox_count(limited) == before
    # The page still loads, and another IP still gets its own budget.
    assert client.get("/manage-link").status_code == 200
    assert ask_for_link(client, JO, address="192.0.2.7").status_code == 303
    assert outbox_count(limited) == before + 1


def test_find_you_shares_the_per_ip_budget(limited: Flask, clock: Clock) -> None:
    client = limited.test_client()
    for n in range(20):
        assert ask_for_link(client, f"guess{n}@example.com").status_code == 303
    to_time(client, demo_ids(limited))
    hold(client)
    post(client, "/book/returning", {"returning": "yes"})

    refused = post(client, "/book/find-you", {"email": "priya.shah@meridian.example"})

    assert refused.status_code == 429
    assert outbox(limited, "booking.find_you") == []


def test_limits_are_configurable(
    engine_name: str, tmp_path: Path, request: pytest.FixtureRequest, clock: Clock
) -> None:
    config = {
        "EMAIL_LINK_RATELIMIT_PER_ADDRESS": "1/hour",
        "EMAIL_LINK_RATELIMIT_PER_IP": "2/minute",
    }
    with make_app(engine_name, tmp_path, request, **config) as app:
        seed_demo(app)
        book(app.test_client(), demo_ids(app))
        client = app.test_client()
        assert ask_for_link(client, JO).status_code == 303
        assert ask_for_link(client, JO).status_code == 303
        assert len(outbox(app, "appointment.manage_link")) == 1
        assert ask_for_link(client, JO).status_code == 429


# ---- The earlier link keeps working until the new one is used --------------------------------


def test_a_new_manage_link_leaves_the_old_one_working_until_it_is_used(
    limited: Flask, clock: Clock
) -> None:
    client = limited.test_client()
    old = book(client, demo_ids(limited))
    assert ask_for_link(client, JO).status_code == 303
    new = newest_manage_token(limited)
    assert new != old

    # Asking again (anyone can) does not stop the link the patient already has.
    assert client.get(f"/manage/{old}").status_code == 200
    assert client.get(f"/manage/{old}/cancel").status_code == 200

    # The first use of the new link retires the old one.
    assert limited.test_client().get(f"/manage/{new}").status_code == 200
    assert client.get(f"/manage/{old}").status_code == 404
    assert client.get(f"/manage/{new}").status_code == 200


def test_using_a_newer_link_retires_every_older_one_but_not_newer_ones(
    limited: Flask, clock: Clock
) -> None:
    client = limited.test_client()
    original = book(client, demo_ids(limited))
    tokens = []
    for _ in range(3):
        ask_for_link(client, JO)
        tokens.append(newest_manage_token(limited))
    first, second, third = tokens

    assert client.get(f"/manage/{second}").status_code == 200

    assert client.get(f"/manage/{original}").status_code == 404
    assert client.get(f"/manage/{first}").status_code == 404
    assert client.get(f"/manage/{second}").status_code == 200
    assert client.get(f"/manage/{third}").status_code == 200  # newer than the one used: works
    assert client.get(f"/manage/{second}").status_code == 404  # third is now the one in use


def test_the_old_link_can_still_cancel_after_a_new_one_is_asked_for(
    limited: Flask, clock: Clock
) -> None:
    client = limited.test_client()
    old = book(client, demo_ids(limited))
    ask_for_link(client, JO)
    response = post(client, f"/manage/{old}/cancel")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/manage/{old}/done"
    assert "Session cancelled" in text(client.get(f"/manage/{old}/done"))


# ---- Joining the waitlist without an account --------------------------------------------------


def guest_joins(client: FlaskClient, app: Flask, email: str, name: str) -> Any:
    ids = demo_ids(app)
    path = f"/waitlist/join?session_type={ids.first_type}&location={ids.islington}"
    token = csrf_from(client.get(path).get_data(as_text=True))
    return client.post(
        path,
        data={
            "csrf_token": token,
            "given_name": name,
            "family_name": "Guest",
            "email": email,
            "session_type": str(ids.first_type),
            "location": str(ids.islington),
            "practitioner": "any",
            "weekdays": ["2"],
            "day_parts": ["morning"],
        },
    )


def waitlist_entries(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(WaitlistEntry.id)))


def test_the_sixth_guest_waitlist_join_for_one_address_is_refused_and_saves_nothing(
    limited: Flask, clock: Clock
) -> None:
    """Each join with a new name makes a guest profile that is later emailed offers."""
    client = limited.test_client()
    for n in range(5):
        assert guest_joins(client, limited, "target@example.com", f"Name{n}").status_code == 303
    assert waitlist_entries(limited) == 5

    refused = guest_joins(client, limited, "target@example.com", "Name5")

    assert refused.status_code == 200
    assert "joined the waitlist too many times" in error_summary(refused)
    assert waitlist_entries(limited) == 5
    # Another address is not affected.
    assert guest_joins(client, limited, "someone@example.com", "Sam").status_code == 303


def test_guest_waitlist_joins_share_the_per_ip_budget(limited: Flask, clock: Clock) -> None:
    client = limited.test_client()
    for n in range(20):
        assert ask_for_link(client, f"guess{n}@example.com").status_code == 303

    refused = guest_joins(client, limited, "new@example.com", "Robin")

    assert refused.status_code == 429
    assert waitlist_entries(limited) == 0
