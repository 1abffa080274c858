"""`flask purge-expired`: drafts and email links past their expiry go; live ones stay."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import BookingDraft, EmailLink
from tests.conftest import FrozenClock


def _rows(app: Flask, now: FrozenClock, *, expired: bool) -> None:
    expires_at = now() - timedelta(seconds=1) if expired else now() + timedelta(seconds=1)
    tag = "old" if expired else "new"
    with app.app_context():
        db.session.add(BookingDraft(key_hash=f"{tag}-draft", answers={}, expires_at=expires_at))
        db.session.add(
            EmailLink(
                token_hash=f"{tag}-link",
                purpose="find_you",
                email="someone@example.com",
                expires_at=expires_at,
            )
        )
        db.session.commit()


def test_purge_expired_deletes_only_what_has_expired(app: Flask, frozen_clock: FrozenClock) -> None:
    _rows(app, frozen_clock, expired=True)
    _rows(app, frozen_clock, expired=False)
    result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == [
        "Deleted 1 expired booking draft(s) and 1 expired email link(s)."
    ]
    with app.app_context():
        assert db.session.scalars(select(BookingDraft.key_hash)).all() == ["new-draft"]
        assert db.session.scalars(select(EmailLink.token_hash)).all() == ["new-link"]
    again = app.test_cli_runner().invoke(args=["purge-expired"])
    assert again.output.strip() == "Deleted 0 expired booking draft(s) and 0 expired email link(s)."
