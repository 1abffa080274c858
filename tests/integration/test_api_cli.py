"""`flask api-token create|list|revoke`: tokens for staff, stored hashed, usable at once."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import ApiToken, AuditEvent
from tests.conftest import DEMO_EMAILS


def create(demo: Flask, email: str, name: str = "clinic website") -> tuple[int, str]:
    result = demo.test_cli_runner().invoke(
        args=["api-token", "create", "--email", email, "--name", name]
    )
    return result.exit_code, result.output


@pytest.mark.parametrize("role", ["receptionist", "practitioner", "admin"])
def test_create_prints_the_token_alone_on_its_last_line(demo: Flask, role: str) -> None:
    code, output = create(demo, DEMO_EMAILS[role])
    assert code == 0, output
    token = output.strip().splitlines()[-1]
    assert token.startswith("mrd_")
    assert " " not in token
    assert len(token) > 40
    with demo.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (row.prefix + row.name)
        assert row.user.email == DEMO_EMAILS[role]
    me = demo.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json()["role"] == role


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("nobody@example.com", "No user has the email address"),
        (DEMO_EMAILS["patient"], "API tokens are for staff"),
    ],
)
def test_create_refuses_unknown_users_and_patients(demo: Flask, email: str, message: str) -> None:
    code, output = create(demo, email)
    assert code == 1
    assert message in output
    with demo.app_context():
        assert db.session.scalar(select(ApiToken)) is None


def test_create_refuses_an_empty_name(demo: Flask) -> None:
    code, output = create(demo, DEMO_EMAILS["admin"], name="  ")
    assert code == 1
    assert "Name must be between 1 and 100 characters" in output


def test_list_and_revoke(demo: Flask) -> None:
    runner = demo.test_cli_runner()
    assert runner.invoke(args=["api-token", "list"]).output.strip() == "No API tokens."
    _, output = create(demo, DEMO_EMAILS["receptionist"], name="website")
    token = output.strip().splitlines()[-1]
    with demo.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    listing = runner.invoke(args=["api-token", "list"]).output
    assert "website" in listing
    assert DEMO_EMAILS["receptionist"] in listing
    assert "active" in listing
    assert token not in listing
    result = runner.invoke(args=["api-token", "revoke", str(token_id)])
    assert result.exit_code == 0
    assert f"Revoked API token {token_id}." in result.output
    assert "already revoked" in runner.invoke(args=["api-token", "revoke", str(token_id)]).output
    assert "revoked" in runner.invoke(args=["api-token", "list"]).output
    refused = demo.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    with demo.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_type == "api_token")
        ).all()
        assert actions == ["api.token_created", "api.token_revoked"]


def test_revoke_refuses_an_unknown_id(demo: Flask) -> None:
    result = demo.test_cli_runner().invoke(args=["api-token", "revoke", "4242"])
    assert result.exit_code == 1
    assert "No API token has the id 4242" in result.output
