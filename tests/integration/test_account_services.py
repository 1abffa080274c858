"""The account and API-token services behind the thin sign-in, password and API views."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select

from booking.db_hooks import WRITE_TX
from booking.domain.errors import InvalidInput
from booking.extensions import db
from booking.models import (
    ApiToken,
    AuditEvent,
    Location,
    OutboxMessage,
    Practitioner,
    Room,
    SessionType,
    User,
    UserSession,
)
from booking.services.accounts.password_change import change_password
from booking.services.accounts.sessions import sign_out
from booking.services.accounts.sign_in import sign_in
from booking.services.api.tokens import create_token, revoke_token, use_token
from booking.services.clinic.overview import setup_counts
from booking.services.platform.tokens import token_hash
from tests.conftest import CHEAP_COST, DEMO_EMAILS, DEMO_PASSWORD

NOW = datetime(2027, 4, 13, 9, 0, tzinfo=UTC)
COST = (CHEAP_COST["ARGON2_TIME_COST"], CHEAP_COST["ARGON2_MEMORY_COST"], 1)


@pytest.fixture
def ctx(demo: Flask) -> Iterator[Flask]:
    with demo.app_context():
        yield demo


def _user(role: str) -> User:
    return db.session.scalar(select(User).where(User.email == DEMO_EMAILS[role]))


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_sign_in_opens_a_session_and_audits_it(ctx: Flask) -> None:
    signed_in = sign_in(
        DEMO_EMAILS["receptionist"], DEMO_PASSWORD, now=NOW, cost=COST, ip_address="192.0.2.1"
    )
    assert signed_in is not None
    db.session.commit()
    assert signed_in.user.email == DEMO_EMAILS["receptionist"]
    row = db.session.scalar(
        select(UserSession).where(UserSession.token_hash == token_hash(signed_in.token))
    )
    assert row is not None
    assert (row.user_id, row.ip_address) == (signed_in.user.id, "192.0.2.1")
    assert [(e.actor_user_id, e.ip_address) for e in _audit("auth.sign_in")] == [
        (signed_in.user.id, "192.0.2.1")
    ]


def test_a_refused_sign_in_is_counted_and_audited_for_the_caller_to_commit(ctx: Flask) -> None:
    sessions_before = db.session.scalar(select(func.count()).select_from(UserSession))
    refused = sign_in(
        DEMO_EMAILS["receptionist"], "wrong password", now=NOW, cost=COST, ip_address=None
    )
    assert refused is None
    db.session.commit()
    assert [e.actor_user_id for e in _audit("auth.sign_in_failed")] == [None]
    assert _audit("auth.sign_in") == []
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == sessions_before


def test_sign_out_ends_this_session_only_and_audits_it(ctx: Flask) -> None:
    first = sign_in(DEMO_EMAILS["admin"], DEMO_PASSWORD, now=NOW, cost=COST, ip_address=None)
    second = sign_in(DEMO_EMAILS["admin"], DEMO_PASSWORD, now=NOW, cost=COST, ip_address=None)
    assert first is not None
    assert second is not None
    sign_out(first.token, actor=first.user, now=NOW, ip_address="192.0.2.9")
    db.session.commit()
    revoked = {
        row.token_hash: row.revoked_at is not None
        for row in db.session.scalars(select(UserSession))
    }
    assert revoked[token_hash(first.token)] is True
    assert revoked[token_hash(second.token)] is False
    assert [e.ip_address for e in _audit("auth.sign_out")] == ["192.0.2.9"]


def test_a_wrong_current_password_is_audited_by_the_service(ctx: Flask) -> None:
    user = _user("practitioner")
    with pytest.raises(InvalidInput) as refused:
        change_password(
            "not my password",
            "a brand new password 2027",
            actor=user,
            now=NOW,
            cost=COST,
            ip_address="192.0.2.5",
            request_id="req-1",
            clinic_name="Meridian",
        )
    assert (refused.value.field, refused.value.code) == ("current_password", "wrong_password")
    db.session.commit()
    assert [(e.actor_user_id, e.request_id) for e in _audit("auth.password_change_failed")] == [
        (user.id, "req-1")
    ]


def test_a_changed_password_email_gives_the_clinic_phone(ctx: Flask) -> None:
    user = _user("practitioner")
    change_password(
        DEMO_PASSWORD,
        "a brand new password 2027",
        actor=user,
        now=NOW,
        cost=COST,
        ip_address=None,
        request_id=None,
        clinic_name="Meridian",
    )
    db.session.commit()
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == "auth.password_changed")
    )
    assert message is not None
    assert message.recipient == user.email
    assert "10am" in message.body_text  # 9:00 UTC in April is 10am in London
    assert len(_audit("auth.password_changed")) == 1


def test_use_token_stamps_and_audits_each_use_in_its_own_write(ctx: Flask) -> None:
    token, plaintext = create_token(email=DEMO_EMAILS["receptionist"], name="desk", now=NOW)
    db.session.commit()
    read_only = WRITE_TX.set(False)  # as in an API GET
    try:
        used = use_token(plaintext, now=NOW, ip_address="192.0.2.7", request_id="req-7")
    finally:
        WRITE_TX.reset(read_only)
    assert used is not None
    assert used.id == token.id
    db.session.rollback()  # the request's own session commits nothing: the use is kept anyway
    assert db.session.get(ApiToken, token.id).last_used_at is not None
    events = _audit("api.token_used")
    assert [(e.object_id, e.ip_address, e.request_id) for e in events] == [
        (token.id, "192.0.2.7", "req-7")
    ]


def test_use_token_refuses_unknown_and_revoked_tokens(ctx: Flask) -> None:
    token, plaintext = create_token(email=DEMO_EMAILS["admin"], name="script", now=NOW)
    revoke_token(token.id, now=NOW)
    db.session.commit()
    assert use_token(plaintext, now=NOW, ip_address=None, request_id=None) is None
    assert use_token("mrd_unknown", now=NOW, ip_address=None, request_id=None) is None
    assert _audit("api.token_used") == []


def test_setup_counts_every_row_by_the_admin_home_labels(ctx: Flask) -> None:
    counts = setup_counts()
    assert list(counts) == ["Locations", "Rooms", "Session types", "Practitioners", "Accounts"]
    for label, model in (
        ("Locations", Location),
        ("Rooms", Room),
        ("Session types", SessionType),
        ("Practitioners", Practitioner),
        ("Accounts", User),
    ):
        assert counts[label] == db.session.scalar(select(func.count()).select_from(model)) > 0
