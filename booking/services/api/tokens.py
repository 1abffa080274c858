"""API bearer tokens: created for staff users, stored as SHA-256 hashes (security.md §3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from booking.db_hooks import before_commit, write_unit
from booking.domain.errors import InvalidInput, NotFound
from booking.extensions import db
from booking.models import STAFF_ROLES, ApiToken, Role, User
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


@dataclass(frozen=True, slots=True)
class TokenUse:
    """One use of a token, as its audit row and stamp record it (plain values: it can be
    recorded after the request's session has rolled back and expired the token's row)."""

    token_id: int
    id: int  # the token's user, the audit row's actor
    role: Role
    now: datetime
    ip_address: str | None
    request_id: str | None


def token_use(
    row: ApiToken, *, now: datetime, ip_address: str | None, request_id: str | None
) -> TokenUse:
    return TokenUse(row.id, row.user.id, row.user.role, now, ip_address, request_id)


def record_use(
    row: ApiToken, *, now: datetime, ip_address: str | None, request_id: str | None
) -> None:
    """Stamp the token's `last_used_at` and add its `api.token_used` audit row."""
    record_token_use(token_use(row, now=now, ip_address=ip_address, request_id=request_id))


def record_token_use(use: TokenUse, *, with_request: bool = False) -> None:
    """Record a token's use (`record_use`).

    With `with_request` both rows are written by the request's own transaction at its end
    (the audit row with the request's next one, the stamp at its commit; nothing if it
    rolls back): one transaction for a booking and the use of the token that made it.
    """
    if with_request:
        _record_use(use, unit=db.session(), defer=True)
        return
    # Its own transaction where the engine allows: the audit row takes the chain's lock until
    # commit, which must not last for the whole of a booking request.
    with write_unit(own_where_possible=True) as unit:
        _record_use(use, unit=unit, defer=False)


def _record_use(use: TokenUse, *, unit: Session, defer: bool) -> None:
    record_event(
        "api.token_used",
        actor=use,
        now=use.now,
        object_type="api_token",
        object_id=use.token_id,
        ip_address=use.ip_address,
        request_id=use.request_id,
        session=unit,
        defer=defer,
    )
    # By primary key, without loading the row again in a session of its own.
    stamp = update(ApiToken).where(ApiToken.id == use.token_id).values(last_used_at=use.now)
    if defer:
        # At the commit: every request of this token updates this row, so its row lock
        # (PostgreSQL) is taken as late as possible.
        before_commit(unit, lambda: unit.execute(stamp))
    else:
        unit.execute(stamp)


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
