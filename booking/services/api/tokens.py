"""API bearer tokens: created for staff users, stored as SHA-256 hashes (security.md §3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload, selectinload

from booking.db_hooks import write_unit
from booking.domain.errors import InvalidInput, NotFound
from booking.extensions import db
from booking.models import STAFF_ROLES, ApiToken, User
from booking.services.platform.audit import record_event
from booking.services.platform.emails import normalise_email
from booking.services.platform.tokens import new_token, token_hash

TOKEN_PREFIX = "mrd_"  # noqa: S105 - a label marking Meridian tokens, not a secret
MAX_NAME_LENGTH = 100


def create_token(*, email: str, name: str, now: datetime) -> tuple[ApiToken, str]:
    """Create a token for an enabled staff user; return the row and the plaintext (shown once).

    Raises NotFound for an unknown email and InvalidInput for a patient, a disabled account or
    a name that is empty or longer than 100 characters.
    """
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"Name must be between 1 and {MAX_NAME_LENGTH} characters.")
    user = db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
    if user is None:
        raise NotFound(f"No user has the email address {email.strip()}.")
    if user.role not in STAFF_ROLES:
        raise InvalidInput("API tokens are for staff: receptionists, practitioners and admins.")
    if not user.is_enabled:
        raise InvalidInput("That account is disabled.")
    plaintext = TOKEN_PREFIX + new_token()
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=plaintext[:12],
        token_hash=token_hash(plaintext),
        created_at=now,
    )
    db.session.add(token)
    db.session.flush()
    record_event(
        "api.token_created", actor=None, now=now, object_type="api_token", object_id=token.id
    )
    return token, plaintext


def use_token(
    plaintext: str, *, now: datetime, ip_address: str | None, request_id: str | None
) -> ApiToken | None:
    """The live token with this plaintext, if its user is an enabled staff user, else None.

    A use stamps `last_used_at` and adds an `api.token_used` audit row, in a short write of
    their own (`write_unit`: an API GET otherwise only reads, security.md §1).
    """
    row = find_token(plaintext)
    if row is not None:
        record_use(row, now=now, ip_address=ip_address, request_id=request_id)
    return row


def find_token(plaintext: str) -> ApiToken | None:
    """The live token with this plaintext and its user (one query), if the user is an
    enabled staff user, else None. Writes nothing: `record_use` records the use."""
    row = db.session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user, innerjoin=True))
        .where(ApiToken.token_hash == token_hash(plaintext), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.is_enabled or row.user.role not in STAFF_ROLES:
        return None
    return row


def record_use(
    row: ApiToken, *, now: datetime, ip_address: str | None, request_id: str | None
) -> None:
    """Stamp the token's `last_used_at` and add its `api.token_used` audit row."""
    # Its own transaction where the engine allows: the audit row takes the chain's lock until
    # commit, which must not last for the whole of a booking request.
    with write_unit(own_where_possible=True) as unit:
        record_event(
            "api.token_used",
            actor=row.user,
            now=now,
            object_type="api_token",
            object_id=row.id,
            ip_address=ip_address,
            request_id=request_id,
            session=unit,
        )
        # By primary key, without loading the row again in a session of its own.
        unit.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))


def list_tokens() -> list[ApiToken]:
    """Every token, oldest first, with its user."""
    return list(
        db.session.scalars(
            select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.id)
        )
    )


def revoke_token(token_id: int, *, now: datetime) -> tuple[ApiToken, bool]:
    """Revoke a token; return it and whether this call revoked it (False: it already was).

    Raises NotFound for an unknown id.
    """
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"No API token has the id {token_id}.")
    if token.revoked_at is not None:
        return token, False
    token.revoked_at = now
    record_event(
        "api.token_revoked", actor=None, now=now, object_type="api_token", object_id=token.id
    )
    return token, True
