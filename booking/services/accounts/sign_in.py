"""Signing in: the password check, the brute-force counter per email (security.md §3), and
the session and audit rows of a sign-in.

Failures are counted per normalised email, account or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from booking.extensions import db
from booking.models import SignInThrottle, User
from booking.services.accounts.mfa import needs_second_step
from booking.services.accounts.passwords import hasher_for
from booking.services.accounts.sessions import start_session
from booking.services.clinic.settings import get_clinic
from booking.services.platform.audit import record_event
from booking.services.platform.emails import normalise_email
from booking.services.platform.tokens import token_hash


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str  # the new session's raw token, for this browser's cookie only
    # Staff with a second factor, or any staff while the clinic requires one: the session
    # signs nobody in until the second step (or enrolment) is done.
    second_step: bool = False


def sign_in(
    email: str, password: str, *, now: datetime, cost: tuple[int, int, int], ip_address: str | None
) -> SignedIn | None:
    """Check the password and open a session; None when refused.

    Refused (wrong password, unknown email or locked out: one answer, security.md §3): the
    failure counter and an `auth.sign_in_failed` audit row are in the session. Signed in: the
    counter is cleared and a session row and an `auth.sign_in` audit row are added. The
    caller commits either way.
    """
    user = authenticate(email, password, now=now, cost=cost)
    if user is None:
        record_event("auth.sign_in_failed", actor=None, now=now, ip_address=ip_address)
        return None
    signed_in = open_session(user, now=now, ip_address=ip_address)
    record_event(
        "auth.sign_in",
        actor=user,
        now=now,
        ip_address=ip_address,
        detail="password; second step pending" if signed_in.second_step else None,
    )
    return signed_in


def open_session(user: User, *, now: datetime, ip_address: str | None) -> SignedIn:
    """A session for `user` after a password check (sign-in, reset, invitation, sign-up).

    Staff who need a second factor get a pending session that signs nobody in until the
    code (or enrolment) replaces it: a password alone, typed or reset, never passes two-step.
    """
    second_step = user.is_staff and needs_second_step(user, get_clinic())
    token = start_session(user, now=now, ip_address=ip_address, mfa_pending=second_step)
    return SignedIn(user, token, second_step)


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
    hasher, dummy = hasher_for(cost)
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


FAILURE_LIMIT = 5  # failures within FAILURE_WINDOW that lock the email out


FAILURE_WINDOW = timedelta(minutes=15)  # counted from the window's first failure


LOCKOUT = timedelta(minutes=15)  # from the failure that reached FAILURE_LIMIT


SWEEP_BATCH = 100  # stale counter rows deleted per recorded failure, at most


def throttle_key(email: str) -> str:
    """The counter's key for an email: SHA-256 of the normalised address, never the address."""
    return token_hash(normalise_email(email))


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
