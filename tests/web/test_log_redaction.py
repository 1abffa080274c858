"""Database errors never put personal data in the logs (issue 13 item 6, security.md L2).

A route made for the test raises a real database error carrying canary personal values; the
app's own log handler (its real filter and JSON formatter) must show the error but none of
the values. PostgreSQL repeats values in its DETAIL lines (`Key (email)=(…)`, `Failing row
contains (…)`) and in some primary messages, even with `hide_parameters`.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import text

from booking.extensions import db
from booking.models import PatientProfile, Role, User

NAME = "Zorvanthe"
FAMILY = "Quillbrook"
EMAIL = "zorvanthe.canary@example.com"
PHONE = "+447400900457"
DOB = date(1981, 4, 17)
# A value with a line break: PostgreSQL prints it raw inside the DETAIL line.
SECOND_LINE = "Marrowgate-canary"
CANARIES = (NAME, FAMILY, EMAIL, PHONE, "1981-04-17", SECOND_LINE)


def _user(email: str) -> User:
    return User(
        email=email,
        password_hash="x",
        role=Role.patient,
        display_name=f"{NAME} {FAMILY}\n{SECOND_LINE}",
    )


def _duplicate_email() -> None:
    db.session.add(_user(EMAIL))
    db.session.commit()
    db.session.add(_user(EMAIL))
    db.session.commit()  # unique violation: PostgreSQL's DETAIL names the email


def _missing_email() -> None:
    db.session.add(
        PatientProfile(
            given_name=f"{NAME}\n{SECOND_LINE}",
            family_name=FAMILY,
            date_of_birth=DOB,
            email=None,  # type: ignore[arg-type]
            phone=PHONE,
        )
    )
    db.session.commit()  # not-null violation: PostgreSQL's DETAIL holds the whole row


def _bad_literal() -> None:
    # PostgreSQL quotes the value in the primary message; SQLite's JSON error holds none,
    # but the statement's parameters are still there to leak.
    sql = "SELECT json(:value)" if db.engine.dialect.name == "sqlite" else "SELECT :value ::date"
    db.session.execute(text(sql), {"value": f"{NAME} {EMAIL} {PHONE}"})


FAILURES: dict[str, Callable[[], None]] = {
    "duplicate": _duplicate_email,
    "not-null": _missing_email,
    "bad-literal": _bad_literal,
}


def _app_log(app: Flask) -> io.StringIO:
    """Point the app's own log handler at a buffer (keeping its filters and formatter)."""
    stream = io.StringIO()
    handlers = app.logger.handlers
    assert len(handlers) == 1
    assert isinstance(handlers[0], logging.StreamHandler)
    handlers[0].setStream(stream)
    return stream


@pytest.mark.matrix("L2")
@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_database_error_is_logged_without_personal_values(app: Flask, failure: str) -> None:
    @app.get("/test-only/fail")
    def _fail() -> str:
        FAILURES[failure]()
        return "not reached"

    stream = _app_log(app)
    response = app.test_client().get("/test-only/fail")
    assert response.status_code == 500
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    crash = [line for line in lines if line["message"] == "unhandled error"]
    assert len(crash) == 1
    # The error itself is still there to debug: its type and the statement.
    assert "Error" in crash[0]["exception"]
    assert "[SQL:" in crash[0]["exception"]
    logged = stream.getvalue()
    for canary in CANARIES:
        assert canary not in logged, (failure, canary, logged)
    body = response.get_data(as_text=True)
    for canary in CANARIES:
        assert canary not in body


def test_engine_options_from_a_config_keep_hide_parameters(app: Flask) -> None:
    from booking import create_app

    with app.app_context():
        assert db.engine.hide_parameters is True
    other = create_app(
        {
            **{k: app.config[k] for k in ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI")},
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False},
        }
    )
    with other.app_context():
        assert db.engine.hide_parameters is True
        db.engine.dispose()


def test_redaction_keeps_the_diagnosis_and_drops_values() -> None:
    """The text fallback, for exception text that reaches a log without its exception."""
    from booking.log import redact_exception_text

    statement = "[SQL: INSERT INTO user (email) VALUES (%(email)s)]"
    raw = "\n".join(
        [
            "sqlalchemy.exc.IntegrityError: (psycopg.errors.UniqueViolation) duplicate key "
            'value violates unique constraint "uq_user_email"',
            f"DETAIL:  Key (email)=({EMAIL}\n{SECOND_LINE}) already exists.",
            "CONTEXT:  unnamed portal parameter $1 = '...'",
            statement,
            f"[parameters: {{'email': '{EMAIL}'}}]",
            "(Background on this error at: https://sqlalche.me/e/20/gkpj)",
        ]
    )
    cleaned = redact_exception_text(raw)
    assert 'uq_user_email"' in cleaned
    assert statement in cleaned
    assert EMAIL not in cleaned
    assert SECOND_LINE not in cleaned
    assert "[parameters:" not in cleaned
