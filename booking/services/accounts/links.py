"""Emailed account links: issue, look up and spend (security.md §3 "Tokens").

The raw token goes only into the email; the table holds its SHA-256. A link is single
use (spending deletes its row), expires, and a newer link of the same purpose for the same
address deletes the older ones. Every refusal (unknown, tampered, used, expired, replaced)
looks the same to the caller: `None`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select

from booking.extensions import db
from booking.models import AccountLink, AccountLinkPurpose
from booking.services.platform.tokens import token_hash

LINK_VALID = {
    AccountLinkPurpose.reset: timedelta(minutes=30),
    AccountLinkPurpose.invite: timedelta(days=7),
    AccountLinkPurpose.sign_up: timedelta(hours=24),
}


def replace_links(purpose: AccountLinkPurpose, email: str, *, now: datetime) -> None:
    """Delete every link of `purpose` for this (normalised) address: a newer one replaces them.

    Expired links of any purpose go too. Runs for known and unknown addresses alike, so
    both requests do the same work.
    """
    db.session.execute(
        delete(AccountLink)
        .where(
            ((AccountLink.purpose == purpose) & (AccountLink.email == email))
            | (AccountLink.expires_at <= now)
        )
        .execution_options(synchronize_session=False)
    )


def add_decoy(purpose: AccountLinkPurpose, token: str, *, email: str, now: datetime) -> None:
    """Write what a real link writes, for an address that gets none, so the two requests
    cost the same (a commit that writes nothing skips the disk flush and answers sooner).

    The row holds the address's hash, not the address, belongs to no account and opens
    nothing: `live_link` refuses a reset or invitation without a user, and a sign-up link
    without a date of birth. It expires like the real one and is swept with it.
    """
    add_link(purpose, token, email=token_hash(email), now=now)


def add_link(
    purpose: AccountLinkPurpose,
    token: str,
    *,
    email: str,
    now: datetime,
    user_id: int | None = None,
    date_of_birth: date | None = None,
    created_by_id: int | None = None,
) -> AccountLink:
    """Store a new link (older ones of its purpose for `email` must be replaced first)."""
    link = AccountLink(
        purpose=purpose,
        token_hash=token_hash(token),
        email=email,
        user_id=user_id,
        date_of_birth=date_of_birth,
        created_at=now,
        expires_at=now + LINK_VALID[purpose],
        created_by_id=created_by_id,
    )
    db.session.add(link)
    db.session.flush()
    return link


def live_link(purpose: AccountLinkPurpose, token: str, *, now: datetime) -> AccountLink | None:
    """The unexpired, unspent link of `purpose` with this token, else None."""
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(select(AccountLink).where(AccountLink.token_hash == token_hash(token)))
    if link is None or link.purpose != purpose or link.expires_at <= now:
        return None
    if purpose == AccountLinkPurpose.sign_up:
        return link if link.date_of_birth is not None else None
    if link.user is None or not link.user.is_enabled:
        return None
    return link


def spend(link: AccountLink) -> bool:
    """Delete the link; False when another request spent it first (then change nothing)."""
    result = db.session.execute(
        delete(AccountLink)
        .where(AccountLink.id == link.id)
        .execution_options(synchronize_session=False)
    )
    spent = cast(CursorResult[Any], result).rowcount == 1
    db.session.expunge(link)
    return spent


def drop_links_of(user_id: int, purpose: AccountLinkPurpose | None = None) -> None:
    """Delete a user's links (all, or of one purpose): revoked invitation, disabled account."""
    stmt = delete(AccountLink).where(AccountLink.user_id == user_id)
    if purpose is not None:
        stmt = stmt.where(AccountLink.purpose == purpose)
    db.session.execute(stmt.execution_options(synchronize_session=False))


def pending_invitation(user_id: int, *, now: datetime) -> AccountLink | None:
    """The user's unexpired invitation link, if any."""
    return db.session.scalar(
        select(AccountLink).where(
            AccountLink.user_id == user_id,
            AccountLink.purpose == AccountLinkPurpose.invite,
            AccountLink.expires_at > now,
        )
    )
