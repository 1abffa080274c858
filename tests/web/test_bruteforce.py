"""A3: brute-force counters per normalised email, and the per-address limit on password forms.

5 failures within 15 minutes lock the email (account or not) for 15 minutes from the 5th;
a locked attempt gets exactly the answer of a wrong password, without the password being
checked. A right password clears the counter. 20 password POSTs per address per minute,
then 429 with Retry-After. Both engines; time moves through `booking.clock.utcnow`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.auth.views import DEFAULT_AUTH_RATELIMIT_PER_IP
from booking.extensions import db
from booking.models import SignInThrottle, User, UserSession
from tests.conftest import (
    DEMO_EMAILS,
    DEMO_PASSWORD,
    FrozenClock,
    csrf_from,
    fresh_csrf,
    make_app,
    sign_in,
)

SIGN_IN_FAILED = "Enter a correct email address and password"
WRONG_CURRENT = "Enter your current password correctly"
_TOKEN = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+"')

pytestmark = pytest.mark.matrix("A3")


class Clock(FrozenClock):
    """The app's one clock, moved by the test from the real time at which it starts."""

    def __init__(self) -> None:
        super().__init__(datetime.now(UTC))
        self.start = self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("booking.clock.utcnow", fake)
    return fake


def _page(response: object) -> str:
    """The body without its CSRF token, the one part that may differ between two answers."""
    return _TOKEN.sub(r'\1-"', response.get_data(as_text=True))  # type: ignore[attr-defined]


def _fail(app: Flask, email: str, times: int) -> None:
    for _ in range(times):
        response = sign_in(app.test_client(), email, "not-the-password")
        assert response.status_code == 200
        assert SIGN_IN_FAILED in response.get_data(as_text=True)


def _counter(app: Flask, email: str) -> SignInThrottle | None:
    key = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    with app.app_context():
        row = db.session.get(SignInThrottle, key)
        db.session.expunge_all()
        return row


def _sessions(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(UserSession))


def test_the_sixth_attempt_is_refused_with_the_answer_of_a_wrong_password(
    demo: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = DEMO_EMAILS["admin"]
    client = demo.test_client()
    _fail(demo, email, 4)
    clock.advance(minutes=14)  # the 5th failure, still inside the 15-minute window
    wrong = sign_in(client, email, "not-the-password")

    clock.advance(seconds=1)

    def _not_checked(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a locked-out attempt checked the password")

    monkeypatch.setattr("booking.services.accounts.sign_in._check_credentials", _not_checked)
    locked = sign_in(client, email, DEMO_PASSWORD)  # the right password

    assert locked.status_code == wrong.status_code == 200
    assert SIGN_IN_FAILED in locked.get_data(as_text=True)
    assert _page(locked) == _page(wrong)
    assert _sessions(demo) == 0
    row = _counter(demo, email)
    assert row is not None
    assert row.failures == 5  # refused attempts are not counted
    assert row.locked_until == clock.start + timedelta(minutes=14 + 15)


def test_the_lock_lasts_15_minutes_from_the_fifth_failure(demo: Flask, clock: Clock) -> None:
    email = DEMO_EMAILS["receptionist"]
    _fail(demo, email, 5)

    clock.advance(minutes=14, seconds=59)  # one second before the end: still refused
    assert sign_in(demo.test_client(), email).status_code == 200
    clock.advance(seconds=1)  # 15 minutes after the 5th failure: free
    response = sign_in(demo.test_client(), email)

    assert response.status_code == 302
    assert response.headers["Location"] == "/reception/"
    assert _counter(demo, email) is None


def test_failures_further_apart_than_the_window_do_not_lock(demo: Flask, clock: Clock) -> None:
    email = DEMO_EMAILS["practitioner"]
    _fail(demo, email, 4)
    clock.advance(minutes=15)  # the window has passed: the 5th failure starts a new one
    _fail(demo, email, 1)
    assert _counter(demo, email).failures == 1
    assert sign_in(demo.test_client(), email).status_code == 302


def test_an_unknown_email_is_locked_too_and_never_stored(demo: Flask, clock: Clock) -> None:
    # Case and spaces do not make a new counter: the key is the normalised email.
    for email in (
        "nobody@meridian.example",
        " Nobody@Meridian.example",
        "NOBODY@meridian.EXAMPLE ",
    ):
        _fail(demo, email, 1)
    _fail(demo, "nobody@meridian.example", 2)
    row = _counter(demo, "nobody@meridian.example")
    assert row.failures == 5
    assert row.locked_until == clock.start + timedelta(minutes=15)

    unknown = sign_in(demo.test_client(), "nobody@meridian.example", "whatever-password")
    assert unknown.status_code == 200
    assert SIGN_IN_FAILED in unknown.get_data(as_text=True)
    with demo.app_context():
        keys = db.session.scalars(select(SignInThrottle.email_hash)).all()
        assert keys == [row.email_hash]
        assert "nobody" not in "".join(keys)
        assert db.session.scalar(select(User).where(User.email.like("nobody%"))) is None


def test_a_lock_on_one_email_leaves_the_others_alone(demo: Flask, clock: Clock) -> None:
    _fail(demo, DEMO_EMAILS["admin"], 5)
    assert sign_in(demo.test_client(), DEMO_EMAILS["patient"]).status_code == 302


def test_a_successful_sign_in_clears_the_counter(demo: Flask, clock: Clock) -> None:
    email = DEMO_EMAILS["admin"]
    _fail(demo, email, 4)
    assert sign_in(demo.test_client(), email).status_code == 302
    assert _counter(demo, email) is None
    _fail(demo, email, 4)  # four more: 8 in the window, but none before the success count
    assert sign_in(demo.test_client(), email).status_code == 302


def test_stale_counters_are_swept(demo: Flask, clock: Clock) -> None:
    _fail(demo, "first@example.com", 1)
    _fail(demo, "locked@example.com", 5)
    clock.advance(minutes=15)  # both windows and the lock-out have passed
    _fail(demo, "second@example.com", 1)
    assert _counter(demo, "first@example.com") is None
    assert _counter(demo, "locked@example.com") is None
    assert _counter(demo, "second@example.com").failures == 1


# ---- Changing one's password counts against the same counter --------------------------------


def _change(client: FlaskClient, current: str) -> object:
    page = client.get("/auth/change-password")
    new = "lantern orchard pebble 47"
    return client.post(
        "/auth/change-password",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "current_password": current,
            "new_password": new,
            "confirm_password": new,
        },
    )


def test_wrong_current_passwords_count_and_a_lock_refuses_the_change(
    demo: Flask, clock: Clock, login_as: Callable[[str], FlaskClient]
) -> None:
    email = DEMO_EMAILS["patient"]
    client = login_as("patient")
    with demo.app_context():
        before = db.session.scalar(select(User.password_hash).where(User.email == email))
    _fail(demo, email, 2)  # two at the sign-in form, three on the change form
    answers = [_change(client, "a-wrong-guess") for _ in range(3)]
    assert [a.status_code for a in answers] == [422, 422, 422]
    assert _counter(demo, email).failures == 5

    refused = _change(client, DEMO_PASSWORD)  # right, but locked: not checked

    assert refused.status_code == 422
    assert WRONG_CURRENT in refused.get_data(as_text=True)
    assert _page(refused) == _page(answers[-1])
    with demo.app_context():
        after = db.session.scalar(select(User.password_hash).where(User.email == email))
    assert after == before
    assert sign_in(demo.test_client(), email).status_code == 200  # sign-in is locked too
    clock.advance(minutes=15)
    assert _change(client, DEMO_PASSWORD).status_code == 303
    assert _counter(demo, email) is None


# ---- 20 password POSTs per address per minute --------------------------------------------


@pytest.fixture
def limited(engine_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The app with the production limit on password forms (the test default is high)."""
    assert DEFAULT_AUTH_RATELIMIT_PER_IP == "20/minute"
    config = {"AUTH_RATELIMIT_PER_IP": DEFAULT_AUTH_RATELIMIT_PER_IP}
    with make_app(engine_name, tmp_path, request, **config) as app:
        yield app


def _attempt(client: FlaskClient, token: str, n: int, address: str = "127.0.0.1") -> object:
    return client.post(
        "/auth/sign-in",
        data={"email": f"guess{n}@example.com", "password": "x" * 12, "csrf_token": token},
        environ_overrides={"REMOTE_ADDR": address},
    )


def test_the_21st_password_post_from_one_address_is_429(limited: Flask) -> None:
    client = limited.test_client()
    token = fresh_csrf(client)
    statuses = [_attempt(client, token, n).status_code for n in range(20)]
    assert statuses == [200] * 20  # each a different email: no counter is locked

    refused = _attempt(client, token, 20)

    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61  # the window, rounded up
    body = refused.get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Too many requests</h1>' in body
    assert "then try again" in body
    # Pages still load, and another address still gets its own budget.
    assert client.get("/auth/sign-in").status_code == 200
    assert _attempt(client, token, 21, address="192.0.2.7").status_code == 200


def test_change_password_shares_the_budget_and_sign_out_is_never_refused(
    limited: Flask,
) -> None:
    from tests.conftest import seed_demo

    seed_demo(limited)
    client = limited.test_client()
    assert sign_in(client, DEMO_EMAILS["admin"]).status_code == 302
    other = limited.test_client()
    other_token = fresh_csrf(other)
    for n in range(18):  # 1 + 18 sign-in POSTs, then the change form is the 20th
        assert _attempt(other, other_token, n).status_code == 200
    assert _change(client, "a-wrong-guess").status_code == 422
    assert _change(client, "a-wrong-guess").status_code == 429

    home = client.get("/admin/").get_data(as_text=True)
    signed_out = client.post("/auth/sign-out", data={"csrf_token": csrf_from(home)})
    assert signed_out.status_code == 302
