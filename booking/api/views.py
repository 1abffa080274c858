"""JSON API v1: bearer-token authentication and problem+json errors."""

from __future__ import annotations

import hashlib

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from booking.clock import utcnow
from booking.db_hooks import write_unit
from booking.errors import problem
from booking.extensions import db
from booking.models import STAFF_ROLES, ApiToken, User
from booking.services.audit import record_event

bp = Blueprint("api", __name__)

# Endpoints open without a token (public availability arrives with the API issue).
PUBLIC_ENDPOINTS: frozenset[str] = frozenset()


def _token_user() -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    digest = hashlib.sha256(token.strip().encode()).hexdigest()
    row = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.is_enabled or row.user.role not in STAFF_ROLES:
        return None
    now = utcnow()
    with write_unit() as unit:
        unit.get(ApiToken, row.id).last_used_at = now
        record_event(
            "api.token_used",
            actor=row.user,
            now=now,
            object_type="api_token",
            object_id=row.id,
            ip_address=request.remote_addr,
            request_id=g.get("request_id"),
            session=unit,
        )
    return row.user


@bp.before_request
def _guard() -> Response | None:
    """The API's one guard: a valid bearer token of a staff user."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    user = _token_user()
    if user is None:
        response = problem(401, "Send a valid API token as 'Authorization: Bearer <token>'.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="meridian"'
        return response
    g.api_user = user
    return None


@bp.route("/me")
def me() -> Response:
    user: User = g.api_user
    return jsonify({"id": user.id, "email": user.email, "role": str(user.role)})
