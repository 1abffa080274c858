"""`flask api-token create|list|revoke`: tokens for staff, stored hashed, usable at once."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import ApiToken, AuditEvent, Role
from tests.factories import make_patient, make_practitioner, make_user

EMAILS = {role.value: f"{role.value}@factory.example" for role in Role}


@pytest.fixture
def clinic(app: Flask) -> Flask:
    """One user of each role, made by the factories (the practitioner and patient with profiles)."""
    with app.app_context():
        make_practitioner(user=make_user(role=Role.practitioner, email=EMAILS["practitioner"]))
        make_patient(user_id=make_user(role=Role.patient, email=EMAILS["patient"]).id)
        for role in (Role.receptionist, Role.admin):
            make_user(role=role, email=EMAILS[role])
        db.session.commit()
    return app


def create(clinic: Flask, email: str, name: str = "clinic website") -> tuple[int, str]:
    result = clinic.test_cli_runner().invoke(
        args=["api-token", "create", "--email", email, "--name", name]
    )
    return result.exit_code, result.output


@pytest.mark.parametrize("role", ["receptionist", "practitioner", "admin"])
def test_create_prints_the_token_alone_on_its_last_line(clinic: Flask, role: str) -> None:
    code, output = create(clinic, EMAILS[role])
    assert code == 0, output
    token = output.strip().splitlines()[-1]
    assert token.startswith("mrd_")
    assert " " not in token
    assert len(token) > 40
    with clinic.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (row.prefix + row.name)
        assert row.user.email == EMAILS[role]
    me = clinic.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json()["role"] == role


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("nobody@example.com", "No user has the email address"),
        (EMAILS["patient"], "API tokens are for staff"),
    ],
)
def test_create_refuses_unknown_users_and_patients(clinic: Flask, email: str, message: str) -> None:
    code, output = create(clinic, email)
    assert code == 1
    assert message in output
    with clinic.app_context():
        assert db.session.scalar(select(ApiToken)) is None


def test_create_refuses_an_empty_name(clinic: Flask) -> None:
    code, output = create(clinic, EMAILS["admin"], name="  ")
    assert code == 1
    assert "Name must be between 1 and 100 characters" in output


def test_list_and_revoke(clinic: Flask) -> None:
    runner = clinic.test_cli_runner()
    assert runner.invoke(args=["api-token", "list"]).output.strip() == "No API tokens."
    _, output = create(clinic, EMAILS["receptionist"], name="website")
    token = output.strip().splitlines()[-1]
    with clinic.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    listing = runner.invoke(args=["api-token", "list"]).output
    assert "website" in listing
    assert EMAILS["receptionist"] in listing
    assert "active" in listing
    assert token not in listing
    result = runner.invoke(args=["api-token", "revoke", str(token_id)])
    assert result.exit_code == 0
    assert f"Revoked API token {token_id}." in result.output
    assert "already revoked" in runner.invoke(args=["api-token", "revoke", str(token_id)]).output
    assert "revoked" in runner.invoke(args=["api-token", "list"]).output
    refused = clinic.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    with clinic.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_type == "api_token")
        ).all()
        assert actions == ["api.token_created", "api.token_revoked"]


def test_revoke_refuses_an_unknown_id(clinic: Flask) -> None:
    result = clinic.test_cli_runner().invoke(args=["api-token", "revoke", "4242"])
    assert result.exit_code == 1
    assert "No API token has the id 4242" in result.output
