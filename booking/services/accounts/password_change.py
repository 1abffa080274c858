"""Changing one's own password: check the current one, sign out elsewhere, tell the user."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from cryptography.fernet import MultiFernet

from booking.domain.errors import InvalidInput
from booking.extensions import db
from booking.mail import render_email
from booking.models import User
from booking.services.accounts import mfa
from booking.services.accounts.passwords import check_new_password, hash_password, verify_password
from booking.services.accounts.sessions import add_session, end_all_sessions
from booking.services.accounts.sign_in import PasswordAttempt
from booking.services.clinic.settings import clinic_zone, get_clinic
from booking.services.platform import outbox
from booking.services.platform.audit import record_event

WRONG_CURRENT_PASSWORD = "Enter your current password correctly"  # noqa: S105 - a message


SAME_AS_CURRENT = "New password must be different from your current password"


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
    code: str | None = None,
    cipher: MultiFernet | None = None,
) -> str:
    """Replace the actor's own password; return a new session token for the browser that asked.

    Someone with two-step verification also gives a code (TOTP or an unused recovery code,
    checked with `cipher` as at sign-in, after the password): a stolen session and password
    alone cannot take the account over. A refused code raises InvalidInput with `field`
    `code` after `mfa.check_second_factor` added its `auth.mfa_failed` row: the caller commits.

    The current password counts against the actor's brute-force counter, as at sign-in.
    Raises InvalidInput with `field` `current_password` when `current` is wrong (code
    `wrong_password`) or the account is locked out (code `locked_out`: not checked): the
    failure and an `auth.password_change_failed` audit row are in the session, for the caller
    to commit. Raises it with `field` `new_password` when `new` breaks the role's rule or
    equals `current`, and the caller rolls back. On success the counter is cleared, every
    session of the actor is revoked (this browser's too: it gets the returned token), an
    `auth.password_changed` audit row is added and an email saying so is queued (in the
    clinic's zone, with its phone number), with no password.
    """
    attempt = PasswordAttempt(actor.email, now=now)
    if attempt.locked:
        _audit_failure(actor, now=now, ip_address=ip_address, request_id=request_id)
        raise InvalidInput(WRONG_CURRENT_PASSWORD, "locked_out", field="current_password")
    if not verify_password(actor, current, cost=cost):
        attempt.failed()
        _audit_failure(actor, now=now, ip_address=ip_address, request_id=request_id)
        raise InvalidInput(WRONG_CURRENT_PASSWORD, "wrong_password", field="current_password")
    attempt.succeeded()
    if actor.has_second_factor:
        if cipher is None:
            raise InvalidInput("Enter the code from your authenticator app", field="code")
        mfa.check_second_factor(
            actor, code or "", cipher=cipher, now=now, ip_address=ip_address, request_id=request_id
        )
    check_new_password(new, role=actor.role)
    if new == current:
        raise InvalidInput(SAME_AS_CURRENT, field="new_password")
    actor.password_hash = hash_password(new, cost=cost)
    end_all_sessions(actor.id, now=now)
    token = add_session(actor, now=now, ip_address=ip_address)
    password_changed(
        actor,
        "auth.password_changed",
        now=now,
        ip_address=ip_address,
        request_id=request_id,
        clinic_name=clinic_name,
    )
    return token


def password_changed(
    user: User,
    action: str,
    *,
    now: datetime,
    ip_address: str | None,
    request_id: str | None,
    clinic_name: str,
) -> None:
    """The audit row (`action`) and the "your password was changed" email of a new password."""
    record_event(
        action,
        actor=user,
        now=now,
        object_type="user",
        object_id=user.id,
        ip_address=ip_address,
        request_id=request_id,
    )
    clinic = get_clinic()
    _queue_password_changed_email(
        user,
        now=now,
        clinic_name=clinic_name,
        zone=clinic_zone(),
        phone=clinic.phone if clinic else None,
    )
    db.session.flush()


def _audit_failure(
    actor: User, *, now: datetime, ip_address: str | None, request_id: str | None
) -> None:
    record_event(
        "auth.password_change_failed",
        actor=actor,
        now=now,
        ip_address=ip_address,
        request_id=request_id,
    )


def _queue_password_changed_email(
    user: User, *, now: datetime, clinic_name: str, zone: ZoneInfo, phone: str | None
) -> None:
    body = render_email(
        "password_changed",
        display_name=user.display_name,
        changed_at=now.astimezone(zone),
        phone=phone,
        clinic_name=clinic_name,
    )
    outbox.enqueue(
        kind="auth.password_changed",
        recipient=user.email,
        subject=f"Your password was changed – {clinic_name}",
        body_text=body,
        dedupe_key=f"password-changed:{user.id}:{now.isoformat()}",
        now=now,
    )
