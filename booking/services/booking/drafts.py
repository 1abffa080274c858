"""Booking drafts kept server-side per browser, and single-use links sent by email."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, delete, select, update

from booking.domain.errors import NotFound
from booking.extensions import db
from booking.models import BookingDraft, EmailLink
from booking.services.platform.tokens import new_token, token_hash

DRAFT_LIFETIME = timedelta(hours=3)
LINK_LIFETIME = timedelta(minutes=20)
FIND_YOU = "find_you"


# Built once: every journey request reads its draft by key.
_DRAFT_BY_KEY = select(BookingDraft).where(BookingDraft.key_hash == bindparam("key_hash"))


def load_draft(hashed_key: str, *, now: datetime) -> BookingDraft | None:
    """The browser's draft while it has not expired."""
    draft = db.session.scalar(_DRAFT_BY_KEY, {"key_hash": hashed_key})
    if draft is None or draft.expires_at <= now:
        return None
    return draft


def start_draft(hashed_key: str, answers: dict[str, Any], *, now: datetime) -> BookingDraft:
    """Create (or reset) the browser's draft with `answers`."""
    draft = db.session.scalar(select(BookingDraft).where(BookingDraft.key_hash == hashed_key))
    if draft is None:
        draft = BookingDraft(key_hash=hashed_key, answers={}, expires_at=now)
        db.session.add(draft)
    draft.answers = dict(answers)
    draft.created_at = now
    draft.updated_at = now
    draft.expires_at = now + DRAFT_LIFETIME
    db.session.flush()
    return draft


def save_answers(draft: BookingDraft, *, now: datetime, **changes: Any) -> BookingDraft:
    """Merge `changes` into the draft (None removes a key) and push its expiry back."""
    answers = dict(draft.answers or {})
    for name, value in changes.items():
        if value is None:
            answers.pop(name, None)
        else:
            answers[name] = value
    draft.answers = answers  # a new dict, so the JSON column is marked changed
    draft.updated_at = now
    draft.expires_at = now + DRAFT_LIFETIME
    return draft


def purge_expired_drafts(*, now: datetime) -> tuple[int, int]:
    """Delete drafts and email links past their expiry; return how many of each went.

    Expired rows are already ignored when read; this only keeps the tables small
    (`flask purge-expired`).
    """
    # DML answers a CursorResult (the session's signature only says Result).
    drafts = cast(
        CursorResult[Any],
        db.session.execute(delete(BookingDraft).where(BookingDraft.expires_at <= now)),
    )
    links = cast(
        CursorResult[Any], db.session.execute(delete(EmailLink).where(EmailLink.expires_at <= now))
    )
    return drafts.rowcount, links.rowcount


def create_email_link(
    *, purpose: str, email: str, draft_key_hash: str | None, now: datetime
) -> str:
    """Store a single-use link for 20 minutes and return its plaintext token."""
    token = new_token()
    db.session.add(
        EmailLink(
            token_hash=token_hash(token),
            purpose=purpose,
            email=email,
            draft_key_hash=draft_key_hash,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    return token


def peek_email_link(token: str, *, purpose: str, now: datetime) -> EmailLink:
    """The unspent, unexpired link for `token`, or NotFound."""
    if not token or len(token) > 100:
        raise NotFound("This link has expired or is not valid.")
    link = db.session.scalar(select(EmailLink).where(EmailLink.token_hash == token_hash(token)))
    if (
        link is None
        or link.purpose != purpose
        or link.used_at is not None
        or link.expires_at <= now
    ):
        raise NotFound("This link has expired or is not valid.")
    return link


def spend_email_link(token: str, *, purpose: str, now: datetime) -> EmailLink:
    """Mark the link used (once) and return it; NotFound when spent, expired or unknown."""
    link = peek_email_link(token, purpose=purpose, now=now)
    # A guarded UPDATE, so two requests racing with one link cannot both spend it.
    result = db.session.execute(
        update(EmailLink)
        .where(EmailLink.id == link.id, EmailLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    spent = cast(CursorResult[Any], result).rowcount
    if spent != 1:
        raise NotFound("This link has expired or is not valid.")
    db.session.refresh(link)
    return link
