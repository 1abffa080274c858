"""Sign-in, sign-out, sessions and bad input on the sign-in form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from booking.extensions import db
from booking.models import AuditEvent, UserSession
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD, fresh_csrf, sign_in

HOMES = {
    "patient": ("/patient/", "Your account"),
    "practitioner": ("/practitioner/", "Your day"),
    "receptionist": ("/reception/", "Day sheet"),
    "admin": ("/admin/", "Clinic set-up"),
}


@pytest.mark.parametrize("role", list(HOMES))
def test_each_role_signs_in_to_its_home(demo: Flask, role: str) -> None:
    client = demo.test_client()
    response = sign_in(client, DEMO_EMAILS[role])
    assert response.status_code == 302
    path, heading = HOMES[role]
    assert response.headers["Location"] == path
    page = client.get(path)
    assert page.status_code == 200
    assert heading in page.get_data(as_text=True)


@pytest.mark.matrix("A4")
def test_unknown_email_and_wrong_password_get_the_same_answer(demo: Flask) -> None:
    unknown = sign_in(demo.test_client(), "nobody@meridian.example", "whatever-password")
    wrong = sign_in(demo.test_client(), DEMO_EMAILS["admin"], "not-the-password")
    assert unknown.status_code == wrong.status_code == 200
    message = "Enter a correct email address and password"
    assert message in unknown.get_data(as_text=True)
    assert message in wrong.get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("", "", "Enter your email address"),  # empty form
        (DEMO_EMAILS["admin"], "", "Enter your password"),  # no password
        ("x" * 10_240, "y" * 10_240, "254 characters or fewer"),  # 10 KB strings
        ("a@b.c" + "\u0000" * 10, "p" * 129, "128 characters or fewer"),  # control chars, long
    ],
)
def test_bad_sign_in_input_gets_a_clear_message(
    sqlite_app: Flask, email: str, password: str, message: str
) -> None:
    client = sqlite_app.test_client()
    token = fresh_csrf(client)
    response = client.post(
        "/auth/sign-in", data={"email": email, "password": password, "csrf_token": token}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in body
    assert message in body
    assert "<title>Error: Sign in" in body


@pytest.mark.matrix("C1")
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_sign_in_without_a_valid_csrf_token_is_refused(demo: Flask, token: str | None) -> None:
    client = demo.test_client()
    data = {"email": DEMO_EMAILS["admin"], "password": DEMO_PASSWORD}
    if token:
        data["csrf_token"] = token
    response = client.post("/auth/sign-in", data=data)
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    with demo.app_context():
        assert db.session.scalar(select(UserSession)) is None


@pytest.mark.matrix("X2")
@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/admin/", "/admin/"),  # same-site page
        ("//evil.example/", "/admin/"),  # protocol-relative
        ("/\\evil.example", "/admin/"),  # backslash trick
        ("/%09/evil.example", "/admin/"),  # encoded tab
        ("https://evil.example/", "/admin/"),  # absolute URL
        ("/no-such-page", "/admin/"),  # not a route
        ("/auth/sign-out", "/admin/"),  # POST-only route
    ],
)
def test_next_is_followed_only_when_safe(demo: Flask, next_url: str, expected: str) -> None:
    client = demo.test_client()
    token = fresh_csrf(client)
    response = client.post(
        "/auth/sign-in",
        data={
            "email": DEMO_EMAILS["admin"],
            "password": DEMO_PASSWORD,
            "csrf_token": token,
            "next": next_url,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_guarded_page_sends_anonymous_to_sign_in_with_next(demo: Flask) -> None:
    response = demo.test_client().get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/sign-in?next=/admin/"


@pytest.mark.matrix("S2")
def test_sign_out_revokes_the_session_so_the_old_cookie_fails(
    login_as: Callable[[str], FlaskClient], demo: Flask
) -> None:
    client = login_as("admin")
    cookie = client.get_cookie("session")
    assert cookie is not None
    home = client.get("/admin/").get_data(as_text=True)
    from tests.conftest import csrf_from

    assert client.post("/auth/sign-out", data={"csrf_token": csrf_from(home)}).status_code == 302
    replay = demo.test_client()
    replay.set_cookie("session", cookie.value)
    assert replay.get("/admin/").status_code == 302
    with demo.app_context():
        rows = db.session.scalars(select(UserSession)).all()
        assert len(rows) == 1
        assert rows[0].revoked_at is not None
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "auth.sign_in" in actions
        assert "auth.sign_out" in actions


@pytest.mark.matrix("S3")
@pytest.mark.parametrize(
    ("role", "idle_minutes", "signed_in"),
    [
        ("admin", 14, True),  # staff, inside 15 minutes
        ("admin", 16, False),  # staff, past 15 minutes
        ("patient", 29, True),  # patient, inside 30 minutes
        ("patient", 31, False),  # patient, past 30 minutes
    ],
)
def test_idle_timeout_per_role(
    login_as: Callable[[str], FlaskClient],
    demo: Flask,
    role: str,
    idle_minutes: int,
    signed_in: bool,
) -> None:
    client = login_as(role)
    with demo.app_context():
        row = db.session.scalar(select(UserSession))
        db.session.execute(
            update(UserSession)
            .where(UserSession.id == row.id)
            .values(last_seen_at=row.last_seen_at - timedelta(minutes=idle_minutes))
        )
        db.session.commit()
    home = HOMES[role][0]
    response = client.get(home)
    assert (response.status_code == 200) is signed_in


def test_absolute_timeout_after_12_hours(
    login_as: Callable[[str], FlaskClient], demo: Flask
) -> None:
    client = login_as("admin")
    with demo.app_context():
        row = db.session.scalar(select(UserSession))
        db.session.execute(
            update(UserSession)
            .where(UserSession.id == row.id)
            .values(created_at=row.created_at - timedelta(hours=12, minutes=1))
        )
        db.session.commit()
    assert client.get("/admin/").status_code == 302


def test_security_headers_on_pages(sqlite_app: Flask) -> None:
    response = sqlite_app.test_client().get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Request-Id"]


def test_no_inline_script_or_style_attribute_in_pages(demo: Flask, login_as) -> None:
    for role, (path, _heading) in HOMES.items():
        body = login_as(role).get(path).get_data(as_text=True)
        assert "<script>" not in body
        assert " style=" not in body
        assert " onclick=" not in body


def test_error_pages_are_friendly(sqlite_app: Flask) -> None:
    client = sqlite_app.test_client()
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    response = client.get("/auth/sign-out")
    assert response.status_code == 405


def test_oversized_body_is_refused_with_413(sqlite_app: Flask) -> None:
    client = sqlite_app.test_client()
    response = client.post("/auth/sign-in", data={"email": "x" * (1024 * 1024 + 10)})
    assert response.status_code == 413


def test_api_without_token_answers_problem_json(sqlite_app: Flask) -> None:
    response = sqlite_app.test_client().get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 401
    assert body["title"]
    assert body["instance"]
    response = sqlite_app.test_client().get("/api/v1/nothing-here")
    assert response.status_code in {401, 404}
    assert response.mimetype == "application/problem+json"
