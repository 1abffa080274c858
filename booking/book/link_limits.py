"""Rate limits on the pages that email a link on request: `/manage-link`, `/book/find-you`,
`/auth/forgot-password` and `/auth/create-account`; and on `/waitlist/join` without an
account, which makes a guest profile and later emails offers to the address it is given.

Anyone can ask for a link to be sent to any address, so these pages share two budgets on
the limiter's shared store (issues 13, 19):

- per IP: too many POSTs answer the 429 page;
- per address: over budget, the page answers exactly as if the link had gone, and nothing
  is sent, so the answer reveals nothing about the address. The waitlist page says plainly
  that the address has joined too often (any address can be over budget, so this tells
  nothing about accounts) and saves nothing.

The address is counted in a `before_request` hook, before the view opens its own database
transaction (on SQLite the store's short write would otherwise wait behind it).
"""

from __future__ import annotations

import math
import time

from flask import Blueprint, current_app, g, request
from flask.wrappers import Response as FlaskResponse
from flask_limiter import RequestLimit
from flask_limiter.errors import RateLimitExceeded
from werkzeug.wrappers import Response

from booking.api.ratelimit import hit_limit, ip_key
from booking.book.forms import EMAIL_MAX
from booking.domain.errors import InvalidInput
from booking.errors import too_many_requests_page
from booking.extensions import limiter
from booking.services.platform.emails import check_email_format, normalise_email
from booking.services.platform.tokens import token_hash

DEFAULT_EMAIL_LINK_RATELIMIT_PER_ADDRESS = "5/hour"
DEFAULT_EMAIL_LINK_RATELIMIT_PER_IP = "20/minute"
EMAIL_LINK_ENDPOINTS = frozenset(
    {
        "manage.link",
        "book.find_you",
        "auth.forgot_password",
        "auth.create_account",
        "waitlist.join",
    }
)


def _ip_limit() -> str:
    return str(
        current_app.config.get("EMAIL_LINK_RATELIMIT_PER_IP", DEFAULT_EMAIL_LINK_RATELIMIT_PER_IP)
    )


def _address_limit() -> str:
    return str(
        current_app.config.get(
            "EMAIL_LINK_RATELIMIT_PER_ADDRESS", DEFAULT_EMAIL_LINK_RATELIMIT_PER_ADDRESS
        )
    )


def _too_many(limit: RequestLimit) -> FlaskResponse:
    return too_many_requests_page(max(1, math.ceil(limit.reset_at - time.time())))


# One budget per IP for both pages; GETs (reading the form) are free.
email_link_ip_limit = limiter.shared_limit(
    _ip_limit, scope="email-link-ip", key_func=ip_key, methods=["POST"], on_breach=_too_many
)


def _address_key(raw: str) -> str | None:
    """The store key of a posted address (a hash, never the address), or None if malformed."""
    if not raw or len(raw) > EMAIL_MAX:
        return None
    try:
        email = normalise_email(check_email_format(raw))
    except InvalidInput:
        return None
    return "address:" + token_hash(email)[:32]


def may_send_to_address() -> bool:
    """False when this request's address has used up its budget: send nothing, say the same."""
    return bool(g.get("email_link_allowed", True))


def register(bp: Blueprint) -> None:
    """Count each POSTed address on `bp`'s email-link pages, and answer 429 for the IP limit."""

    @bp.before_request
    def _count_address() -> None:
        if request.method != "POST" or request.endpoint not in EMAIL_LINK_ENDPOINTS:
            return
        key = _address_key(request.form.get("email", ""))
        if key is not None:  # a malformed address gets the form's error, and costs nothing
            g.email_link_allowed = hit_limit(_address_limit(), "email-link-address", key)

    @bp.errorhandler(RateLimitExceeded)
    def _rate_limited(error: RateLimitExceeded) -> Response:
        if isinstance(error.response, Response):  # the page `_too_many` built
            return error.response
        return too_many_requests_page(60)
