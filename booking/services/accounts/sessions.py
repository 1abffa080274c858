"""Server-side sign-in sessions: a row per browser, found by the SHA-256 of its cookie token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from booking.db_hooks import write_unit
from booking.extensions import db
from booking.models import Role, User, UserSession
from booking.services.platform.audit import record_event
from booking.services.platform.tokens import new_token, token_hash

LAST_SEEN_RESOLUTION = timedelta(minutes=1)
# Where `load_session_user` leaves the row it read, in the request's SQLAlchemy session (new
# each request), so `session_expires_at` (every signed-in page's header) reads it again
# without a second query of the same row.
_LOADED_ROW = "meridian_user_session"


@dataclass(frozen=True)
class SessionLimits:
    staff_idle: timedelta
    patient_idle: timedelta
    absolute: timedelta


def add_session(
    user: User, *, now: datetime, ip_address: str | None, mfa_pending: bool = False
) -> str:
    """Add a server-side session row; return the raw token for the cookie."""
    token = new_token()
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=token_hash(token),
            created_at=now,
            last_seen_at=now,
            ip_address=ip_address,
            mfa_pending=mfa_pending,
        )
    )
    return token


def start_session(
    user: User, *, now: datetime, ip_address: str | None, mfa_pending: bool = False
) -> str:
    """Create a server-side session row at sign-in and return the raw token for the cookie.

    A session `mfa_pending` signs nobody in until the second step replaces it.
    """
    token = add_session(user, now=now, ip_address=ip_address, mfa_pending=mfa_pending)
    user.last_sign_in_at = now
    db.session.flush()
    return token


def end_session(token: str | None, *, now: datetime) -> None:
    """Revoke the session with this token, if any."""
    if not token:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == token_hash(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def sign_out(token: str | None, *, actor: User, now: datetime, ip_address: str | None) -> None:
    """End this browser's session and add an `auth.sign_out` audit row; the caller commits."""
    end_session(token, now=now)
    record_event("auth.sign_out", actor=actor, now=now, ip_address=ip_address)


def end_all_sessions(user_id: int, *, now: datetime) -> None:
    """Revoke every session of a user ("sign out everywhere", password change)."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def load_session_user(
    user_id: str, token: str | None, *, now: datetime, limits: SessionLimits
) -> User | None:
    """The user behind a cookie, if its session row is live; touches `last_seen_at`.

    Refuses a revoked session, one still waiting for its second step (staff two-step
    sign-in: this is the one place that keeps a password-only staff session out of every
    page), one idle past the role's limit and one older than the absolute limit.
    `last_seen_at` is written at most once a minute.
    """
    if not token or not user_id.isdigit():
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None or str(row.user_id) != user_id:
        return None
    db.session.info[_LOADED_ROW] = row
    if row.mfa_pending:
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_enabled:
        return None
    idle = limits.patient_idle if user.role == Role.patient else limits.staff_idle
    if now - row.last_seen_at > idle or now - row.created_at > limits.absolute:
        return None
    if now - row.last_seen_at >= LAST_SEEN_RESOLUTION:
        with write_unit() as unit:
            unit.execute(
                update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now)
            )
    return user


def session_expires_at(token: str | None, user: User, *, limits: SessionLimits) -> datetime | None:
    """When the current session will end if the user does nothing.

    The row the user loader read this request is reused (the same row the identity map would
    hand back to a second query, which would not refresh its values either).
    """
    if not token:
        return None
    digest = token_hash(token)
    row = db.session.info.get(_LOADED_ROW)
    if row is None or row.token_hash != digest:
        row = db.session.scalar(select(UserSession).where(UserSession.token_hash == digest))
    if row is None:
        return None
    idle = limits.patient_idle if user.role == Role.patient else limits.staff_idle
    return min(row.last_seen_at + idle, row.created_at + limits.absolute)
