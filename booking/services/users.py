"""Accounts: password hashing, sign-in and server-side sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update

from booking.db_hooks import write_unit
from booking.extensions import db
from booking.models import Role, User, UserSession
from booking.scheduling.errors import InvalidInput
from booking.services import outbox
from booking.services.audit import record_event

LAST_SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionLimits:
    staff_idle: timedelta
    patient_idle: timedelta
    absolute: timedelta


def password_hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    """An argon2id hasher with the configured cost."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


_hashers: dict[tuple[int, int, int], tuple[PasswordHasher, str]] = {}


def _hasher(cost: tuple[int, int, int]) -> tuple[PasswordHasher, str]:
    """Cache one hasher per cost, with a dummy hash verified for unknown emails."""
    if cost not in _hashers:
        hasher = password_hasher(*cost)
        _hashers[cost] = (hasher, hasher.hash(secrets.token_urlsafe(16)))
    return _hashers[cost]


def hash_password(password: str, *, cost: tuple[int, int, int]) -> str:
    """Hash a password with argon2id."""
    return _hasher(cost)[0].hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(email: str, password: str, *, cost: tuple[int, int, int]) -> User | None:
    """Return the enabled user with this email and password, else None.

    Unknown emails still verify a dummy hash so timing does not reveal which accounts exist.
    A hash made with older parameters is upgraded in place (caller commits).
    """
    hasher, dummy = _hasher(cost)
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    try:
        hasher.verify(user.password_hash if user else dummy, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_enabled:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, *, now: datetime, ip_address: str | None) -> str:
    """Create a server-side session row and return the raw token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=_token_hash(token),
            created_at=now,
            last_seen_at=now,
            ip_address=ip_address,
        )
    )
    user.last_sign_in_at = now
    db.session.flush()
    return token


def end_session(token: str | None, *, now: datetime) -> None:
    """Revoke the session with this token, if any."""
    if not token:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _token_hash(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


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

    Refuses a revoked session, one idle past the role's limit and one older than the
    absolute limit. `last_seen_at` is written at most once a minute.
    """
    if not token or not user_id.isdigit():
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None or str(row.user_id) != user_id:
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
    """When the current session will end if the user does nothing."""
    if not token:
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _token_hash(token)))
    if row is None:
        return None
    idle = limits.patient_idle if user.role == Role.patient else limits.staff_idle
    return min(row.last_seen_at + idle, row.created_at + limits.absolute)


# ---- Changing one's own password ------------------------------------------------------------

# security.md §3: patients need 8 characters; staff keep the 15 of schedule_setup.check_password.
PATIENT_PASSWORD_MIN = 8
WRONG_CURRENT_PASSWORD = "Enter your current password correctly"  # noqa: S105 - a message
SAME_AS_CURRENT = "New password must be different from your current password"


def password_minimum(role: Role) -> int:
    """The fewest characters a new password for this role may have."""
    from booking.services.schedule_setup import PASSWORD_MIN  # it imports this module

    return PATIENT_PASSWORD_MIN if role == Role.patient else PASSWORD_MIN


def check_new_password(password: str, *, role: Role) -> None:
    """Raises InvalidInput (field `new_password`) unless the password meets the role's rule.

    Staff get the one staff rule, `schedule_setup.check_password` (15 to 128 characters, as on
    the "Add a practitioner" form); patients 8 to 128. No composition rules, no truncation.
    """
    from booking.services.schedule_setup import PASSWORD_MAX, check_password

    try:
        if role != Role.patient:
            check_password(password)
        elif not password:
            raise InvalidInput("Enter a password")
        elif len(password) < PATIENT_PASSWORD_MIN:
            raise InvalidInput(f"Password must be {PATIENT_PASSWORD_MIN} characters or more")
        elif len(password) > PASSWORD_MAX:
            raise InvalidInput(f"Password must be {PASSWORD_MAX} characters or fewer")
    except InvalidInput as error:
        raise InvalidInput(error.message, field="new_password") from error


def verify_password(user: User, password: str, *, cost: tuple[int, int, int]) -> bool:
    """True when `password` is this user's current password."""
    try:
        return _hasher(cost)[0].verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def change_password(
    current: str,
    new: str,
    *,
    actor: User,
    now: datetime,
    cost: tuple[int, int, int],
    ip_address: str | None,
    request_id: str | None,
    clinic_name: str,
    zone: ZoneInfo,
    phone: str | None = None,
) -> str:
    """Replace the actor's own password; return a new session token for the browser that asked.

    Raises InvalidInput with `field` `current_password` when `current` is wrong, `new_password`
    when `new` breaks the role's rule or equals `current`; nothing is written then. On success
    every session of the actor is revoked (this browser's too: it gets the returned token), an
    `auth.password_changed` audit row is added and an email saying so is queued, with no password.
    """
    if not verify_password(actor, current, cost=cost):
        raise InvalidInput(WRONG_CURRENT_PASSWORD, field="current_password")
    check_new_password(new, role=actor.role)
    if new == current:
        raise InvalidInput(SAME_AS_CURRENT, field="new_password")
    actor.password_hash = hash_password(new, cost=cost)
    end_all_sessions(actor.id, now=now)
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=actor.id,
            token_hash=_token_hash(token),
            created_at=now,
            last_seen_at=now,
            ip_address=ip_address,
        )
    )
    record_event(
        "auth.password_changed",
        actor=actor,
        now=now,
        object_type="user",
        object_id=actor.id,
        ip_address=ip_address,
        request_id=request_id,
    )
    _queue_password_changed_email(actor, now=now, clinic_name=clinic_name, zone=zone, phone=phone)
    db.session.flush()
    return token


def _queue_password_changed_email(
    user: User, *, now: datetime, clinic_name: str, zone: ZoneInfo, phone: str | None
) -> None:
    from booking.templating import format_date, format_time

    local = now.astimezone(zone)
    contact = f"call us on {phone}" if phone else "contact the clinic"
    body = [
        f"Hello {user.display_name},",
        "",
        f"The password for your {clinic_name} account was changed on {format_date(local)} "
        f"at {format_time(local)} {local:%Z}. You have been signed out on your other devices.",
        "",
        f"If you did not change it, {contact} straight away.",
        "",
        clinic_name,
    ]
    outbox.enqueue(
        kind="auth.password_changed",
        recipient=user.email,
        subject=f"Your password was changed – {clinic_name}",
        body_text="\n".join(body),
        dedupe_key=f"password-changed:{user.id}:{now.isoformat()}",
        now=now,
    )
