"""Accounts: password hashing, sign-in and server-side sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from booking.db_hooks import write_unit
from booking.extensions import db
from booking.models import Role, SignInThrottle, User, UserSession
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


def authenticate(
    email: str, password: str, *, now: datetime, cost: tuple[int, int, int]
) -> User | None:
    """Return the enabled user with this email and password, else None.

    Counts against the email's brute-force counter (account or not): while it is locked out
    the password is not checked and the answer is None, as for a wrong password. A failure
    is added to the session and a success clears the counter; the caller commits either.
    Unknown emails still verify a dummy hash so timing does not reveal which accounts exist.
    A hash made with older parameters is upgraded in place.
    """
    attempt = PasswordAttempt(email, now=now)
    if attempt.locked:
        return None
    user = _check_credentials(email, password, cost=cost)
    if user is None:
        attempt.failed()
    else:
        attempt.succeeded()
    return user


def _check_credentials(email: str, password: str, *, cost: tuple[int, int, int]) -> User | None:
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


# ---- Brute force: failures per normalised email, account or not (security.md §3) -----------

FAILURE_LIMIT = 5  # failures within FAILURE_WINDOW that lock the email out
FAILURE_WINDOW = timedelta(minutes=15)  # counted from the window's first failure
LOCKOUT = timedelta(minutes=15)  # from the failure that reached FAILURE_LIMIT
SWEEP_BATCH = 100  # stale counter rows deleted per recorded failure, at most


def throttle_key(email: str) -> str:
    """The counter's key for an email: SHA-256 of the normalised address, never the address."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


class PasswordAttempt:
    """One password check against an email's failure counter, in the request's transaction.

    Creating it upserts the counter row, which holds that row's lock until the transaction
    ends: on PostgreSQL concurrent attempts for one email queue behind each other (SQLite
    serialises every write transaction anyway), so every worker sees every earlier failure
    and no burst of parallel guesses gets more than FAILURE_LIMIT password checks.
    """

    def __init__(self, email: str, *, now: datetime) -> None:
        self.now = now
        self.row = _claim_counter(throttle_key(email), now)
        if not self.locked and (
            self.row.locked_until is not None or now - self.row.window_started_at >= FAILURE_WINDOW
        ):
            # The window or the lock-out has passed: count afresh.
            self.row.failures = 0
            self.row.window_started_at = now
            self.row.locked_until = None

    @property
    def locked(self) -> bool:
        """True while a lock-out runs: refuse without checking the password."""
        return self.row.locked_until is not None and self.now < self.row.locked_until

    def failed(self) -> None:
        """Count a wrong password; the FAILURE_LIMIT-th in the window starts the lock-out."""
        self.row.failures += 1
        if self.row.failures >= FAILURE_LIMIT:
            self.row.locked_until = self.now + LOCKOUT
        db.session.flush()
        _sweep_counters(keep=self.row.email_hash, now=self.now)

    def succeeded(self) -> None:
        """A right password clears the counter."""
        db.session.delete(self.row)
        db.session.flush()


def _claim_counter(key: str, now: datetime) -> SignInThrottle:
    """This key's counter row, inserted if absent, locked until the transaction ends."""
    insert: postgresql.Insert | sqlite.Insert
    if db.session.get_bind().dialect.name == "postgresql":
        insert = postgresql.insert(SignInThrottle)
    else:
        insert = sqlite.insert(SignInThrottle)
    stmt = (
        insert.values(email_hash=key, failures=0, window_started_at=now, locked_until=None)
        # A no-op update: it takes the row lock and lets RETURNING give the stored row.
        .on_conflict_do_update(
            index_elements=[SignInThrottle.email_hash],
            set_={"failures": SignInThrottle.failures},
        )
        .returning(SignInThrottle)
    )
    return db.session.scalars(stmt, execution_options={"populate_existing": True}).one()


def _sweep_counters(*, keep: str, now: datetime) -> None:
    """Delete a batch of rows whose window and lock-out have both passed.

    Rows another transaction holds are skipped (PostgreSQL SKIP LOCKED), so the sweep never
    waits; SQLite ignores the clause and needs it not.
    """
    stale = (
        select(SignInThrottle.email_hash)
        .where(
            SignInThrottle.email_hash != keep,
            SignInThrottle.window_started_at <= now - FAILURE_WINDOW,
            or_(SignInThrottle.locked_until.is_(None), SignInThrottle.locked_until <= now),
        )
        .limit(SWEEP_BATCH)
        .with_for_update(skip_locked=True)
    )
    db.session.execute(
        delete(SignInThrottle)
        .where(SignInThrottle.email_hash.in_(stale))
        .execution_options(synchronize_session=False)
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _add_session(user: User, *, now: datetime, ip_address: str | None) -> str:
    """Add a server-side session row; return the raw token for the cookie."""
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
    return token


def start_session(user: User, *, now: datetime, ip_address: str | None) -> str:
    """Create a server-side session row at sign-in and return the raw token for the cookie."""
    token = _add_session(user, now=now, ip_address=ip_address)
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

# security.md §3: staff passwords 15 to 128 characters, patients' 8 to 128.
STAFF_PASSWORD_MIN = 15
PATIENT_PASSWORD_MIN = 8
PASSWORD_MAX = 128
WRONG_CURRENT_PASSWORD = "Enter your current password correctly"  # noqa: S105 - a message
SAME_AS_CURRENT = "New password must be different from your current password"
COMMON_PASSWORD = (
    "Choose a password that is harder to guess: this one is in a list of common passwords"  # noqa: S105
)
# security.md §3 asks for a bundled list of at least 3,000: zxcvbn's most frequent 10,000.
COMMON_PASSWORDS_CHECKED = 10_000


def password_minimum(role: Role) -> int:
    """The fewest characters a new password for this role may have."""
    return PATIENT_PASSWORD_MIN if role == Role.patient else STAFF_PASSWORD_MIN


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    ranked = FREQUENCY_LISTS["passwords"][:COMMON_PASSWORDS_CHECKED]
    return frozenset(word.lower() for word in ranked)


def is_common_password(password: str) -> bool:
    """True when the password, ignoring case, is one of the most common passwords."""
    return password.lower() in _common_passwords()


def check_password_rule(password: str, *, minimum: int, field: str) -> None:
    """Raises InvalidInput on `field` unless `minimum` to 128 characters and not common.

    No composition rules, no truncation.
    """
    if not password:
        raise InvalidInput("Enter a password", field=field)
    if len(password) < minimum:
        raise InvalidInput(f"Password must be {minimum} characters or more", field=field)
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(f"Password must be {PASSWORD_MAX} characters or fewer", field=field)
    if is_common_password(password):
        raise InvalidInput(COMMON_PASSWORD, field=field)


def check_new_password(password: str, *, role: Role) -> None:
    """Raises InvalidInput (field `new_password`) unless the password meets the role's rule."""
    check_password_rule(password, minimum=password_minimum(role), field="new_password")


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

    The current password counts against the actor's brute-force counter, as at sign-in.
    Raises InvalidInput with `field` `current_password` when `current` is wrong (code
    `wrong_password`: the failure is in the session, for the caller to commit) or the account
    is locked out (code `locked_out`: not checked); `new_password` when `new` breaks the role's
    rule or equals `current`, and the caller rolls back. On success the counter is cleared,
    every session of the actor is revoked (this browser's too: it gets the returned token), an
    `auth.password_changed` audit row is added and an email saying so is queued, with no password.
    """
    attempt = PasswordAttempt(actor.email, now=now)
    if attempt.locked:
        raise InvalidInput(WRONG_CURRENT_PASSWORD, "locked_out", field="current_password")
    if not verify_password(actor, current, cost=cost):
        attempt.failed()
        raise InvalidInput(WRONG_CURRENT_PASSWORD, "wrong_password", field="current_password")
    attempt.succeeded()
    check_new_password(new, role=actor.role)
    if new == current:
        raise InvalidInput(SAME_AS_CURRENT, field="new_password")
    actor.password_hash = hash_password(new, cost=cost)
    end_all_sessions(actor.id, now=now)
    token = _add_session(actor, now=now, ip_address=ip_address)
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
