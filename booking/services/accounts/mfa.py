"""Staff two-step sign-in: TOTP (RFC 6238, pyotp) and single-use recovery codes.

The TOTP secret is stored Fernet-encrypted (the key comes from the app's config, see
`booking.auth_session.totp_cipher`) and never logged. A code is accepted within one time
step either side and never twice: the last accepted step is stored. Recovery codes are
120-bit random strings stored as SHA-256, each spent once.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import pyotp
from cryptography.fernet import InvalidToken, MultiFernet
from sqlalchemy import delete, func, select, update

from booking.domain.errors import InvalidInput, NotFound
from booking.extensions import db
from booking.models import STAFF_ROLES, Clinic, RecoveryCode, User, UserSession
from booking.services.accounts.sessions import end_all_sessions, end_session, start_session
from booking.services.platform.audit import record_event
from booking.services.platform.tokens import token_hash

RECOVERY_CODE_COUNT = 10
STEP_SECONDS = 30
VALID_WINDOW = 1  # steps either side
FAILURE_LIMIT = 5
FAILURE_WINDOW = timedelta(minutes=15)
MFA_FAILED = "auth.mfa_failed"
CODE_REFUSED = "Enter the 6-digit code from your app, or one of your recovery codes"
ENROL_REFUSED = "Enter the 6-digit code your app shows now"
TOO_MANY = "Too many wrong codes. Wait 15 minutes, then try again"


def mfa_required(clinic: Clinic | None) -> bool:
    return bool(clinic is not None and clinic.mfa_required)


def needs_second_step(user: User, clinic: Clinic | None) -> bool:
    """Whether a password sign-in of this user still needs the second step (or enrolment)."""
    return user.is_staff and (user.has_second_factor or mfa_required(clinic))


def _secret(user: User, cipher: MultiFernet) -> str | None:
    if user.totp_secret is None:
        return None
    try:
        return cipher.decrypt(user.totp_secret.encode("ascii")).decode("ascii")
    except InvalidToken:  # the key changed: the user must enrol again (an admin resets)
        return None


def enrolment_secret(user: User, *, cipher: MultiFernet) -> str:
    """The secret being enrolled: the pending one, or a new one (added to the session).

    Raises InvalidInput when the user already has a confirmed second factor.
    """
    if user.has_second_factor:
        raise InvalidInput("Two-step verification is already set up")
    secret = _secret(user, cipher)
    if secret is None:
        secret = pyotp.random_base32()
        user.totp_secret = cipher.encrypt(secret.encode("ascii")).decode("ascii")
        user.totp_last_step = None
    return secret


def provisioning_uri(secret: str, *, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def _accepted_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The time step `code` matches within the window and after `last_step`, else None."""
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_format_code(secrets.token_hex(15)) for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=token_hash(_normalise_code(code))) for code in codes
    )
    return codes


def _format_code(raw: str) -> str:
    return "-".join(raw[i : i + 6] for i in range(0, len(raw), 6))  # 30 hex: 5 groups of 6


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch in "0123456789abcdef")


def confirm_enrolment(
    user: User,
    code: str,
    *,
    cipher: MultiFernet,
    now: datetime,
    ip_address: str | None,
    request_id: str | None,
) -> list[str]:
    """Turn on the second factor when `code` matches the pending secret; return the recovery
    codes (shown once). Raises InvalidInput (field `code`) otherwise."""
    secret = _secret(user, cipher)
    if secret is None or user.has_second_factor:
        raise InvalidInput("Start setting up two-step verification again", field="code")
    step = _accepted_step(secret, code.strip().replace(" ", ""), now=now, last_step=None)
    if step is None:
        raise InvalidInput(ENROL_REFUSED, field="code")
    user.totp_enabled_at = now
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    record_event(
        "auth.mfa_enrolled",
        actor=user,
        now=now,
        object_type="user",
        object_id=user.id,
        ip_address=ip_address,
        request_id=request_id,
    )
    return codes


def _recent_failures(user: User, now: datetime) -> int:
    from booking.models import AuditEvent

    return (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.actor_user_id == user.id,
                AuditEvent.action == MFA_FAILED,
                AuditEvent.occurred_at > now - FAILURE_WINDOW,
            )
        )
        or 0
    )


def check_second_factor(
    user: User,
    code: str,
    *,
    cipher: MultiFernet,
    now: datetime,
    ip_address: str | None,
    request_id: str | None,
) -> str:
    """Accept a TOTP code or an unused recovery code; return which ("totp" or "recovery").

    Raises InvalidInput (field `code`) when refused, after adding an `auth.mfa_failed`
    row; five refusals in 15 minutes refuse every code until the window passes. The caller
    commits either way.
    """
    audit = {"actor": user, "now": now, "ip_address": ip_address, "request_id": request_id}
    if _recent_failures(user, now) >= FAILURE_LIMIT:
        record_event(MFA_FAILED, detail="locked", **audit)  # type: ignore[arg-type]
        raise InvalidInput(TOO_MANY, field="code")
    cleaned = code.strip().replace(" ", "")
    secret = _secret(user, cipher)
    step = (
        _accepted_step(secret, cleaned, now=now, last_step=user.totp_last_step)
        if secret is not None and user.has_second_factor
        else None
    )
    if step is not None:
        user.totp_last_step = step
        record_event("auth.mfa_verified", detail="totp", **audit)  # type: ignore[arg-type]
        return "totp"
    normalised = _normalise_code(cleaned)
    if len(normalised) == 30:
        spent = db.session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == token_hash(normalised),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
        )
        if spent.rowcount == 1:  # type: ignore[attr-defined]
            record_event("auth.mfa_verified", detail="recovery code", **audit)  # type: ignore[arg-type]
            return "recovery"
    record_event(MFA_FAILED, **audit)  # type: ignore[arg-type]
    raise InvalidInput(CODE_REFUSED, field="code")


def remaining_recovery_codes(user_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def pending_user(token: str | None, *, now: datetime, idle: timedelta) -> User | None:
    """The user of this browser's session that still waits for its second step, if live."""
    if not token:
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if row is None or not row.mfa_pending or row.revoked_at is not None:
        return None
    if now - row.last_seen_at > idle:
        return None
    user = db.session.get(User, row.user_id)
    return user if user is not None and user.is_enabled else None


def finish_second_step(
    user: User, pending_token: str | None, *, now: datetime, ip_address: str | None
) -> str:
    """Replace the pending session with a full one; return the new cookie token."""
    end_session(pending_token, now=now)
    return start_session(user, now=now, ip_address=ip_address)


def set_mfa_required(
    clinic: Clinic, required: bool, *, actor: User, now: datetime, ip_address: str | None
) -> None:
    """Turn mandatory two-step sign-in on or off (audited).

    Turning it on sends every live session of staff without a second factor to enrolment.
    """
    if clinic.mfa_required == required:
        return
    clinic.mfa_required = required
    if required:
        unenrolled = select(User.id).where(
            User.role.in_(STAFF_ROLES), User.totp_enabled_at.is_(None)
        )
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id.in_(unenrolled), UserSession.revoked_at.is_(None))
            .values(mfa_pending=True)
        )
    record_event(
        "clinic.mfa_required_on" if required else "clinic.mfa_required_off",
        actor=actor,
        now=now,
        object_type="clinic",
        object_id=clinic.id,
        ip_address=ip_address,
    )


def staff_second_factors() -> list[tuple[User, bool]]:
    """Every staff account with whether it has a second factor, by name."""
    users = db.session.scalars(
        select(User).where(User.role.in_(STAFF_ROLES)).order_by(User.display_name, User.id)
    )
    return [(user, user.has_second_factor) for user in users]


def reset_second_factor(
    user_id: int, *, actor: User, now: datetime, ip_address: str | None, request_id: str | None
) -> User:
    """Remove another staff member's second factor and sign them out everywhere (audited).

    Raises NotFound for an unknown, non-staff or own account.
    """
    user = db.session.get(User, user_id)
    if user is None or not user.is_staff or user.id == actor.id:
        raise NotFound("No such staff account")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_all_sessions(user.id, now=now)
    record_event(
        "auth.mfa_reset",
        actor=actor,
        now=now,
        object_type="user",
        object_id=user.id,
        ip_address=ip_address,
        request_id=request_id,
    )
    return user
