"""A practitioner's calendar feed, fetched by calendar apps with its secret token (issue 15)."""

from __future__ import annotations

from flask import Response, abort

from booking import clock
from booking.domain.errors import NotFound
from booking.public.views import bp
from booking.services.booking import feed
from booking.services.clinic.settings import get_clinic


@bp.route("/calendar-feed/<token>.ics")
def calendar_feed(token: str) -> Response:
    """The .ics of the token's practitioner; an unknown, rotated or revoked token is 404."""
    try:
        practitioner = feed.practitioner_by_feed_token(token)
    except NotFound:
        abort(404)
    clinic = get_clinic()
    body = feed.feed_ics(
        practitioner, now=clock.utcnow(), clinic_name=clinic.name if clinic else ""
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = 'inline; filename="sessions.ics"'
    return response
