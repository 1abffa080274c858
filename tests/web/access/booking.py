"""Access entries for the booking journey, manage links and a patient's session pages.

Journey pages need a draft (made by GET /book): a client without one goes to `/` (302).
Manage pages with an unknown token answer the 404 "link has expired" page.
"""

from __future__ import annotations

from tests.web.access.roles import P, everyone, only

TOKEN = {"token": "not-a-real-token"}
SESSION = {"appointment_id": 999999}

_MANAGE = (
    "manage.session",
    "manage.session_day",
    "manage.session_time",
    "manage.session_check",
    "manage.session_cancel",
    "manage.session_done",
    "manage.session_calendar",
)
_SESSIONS = tuple(name.replace("manage.", "patient.") for name in _MANAGE)
URL_ARGS: dict[str, dict[str, object]] = {
    "book.find_you_link": TOKEN,
    **dict.fromkeys(_MANAGE, TOKEN),
    **dict.fromkeys(_SESSIONS, SESSION),
}
POST_DATA: dict[str, dict[str, str]] = {
    "manage.link": {"email": "nobody@example.com"},
}

_DRAFT_PAGES = (
    "type",
    "location",
    "practitioner",
    "day",
    "time",
    "taken",
    "expired",
    "returning",
    "find_you",
    "find_you_link",
    "name",
    "date_of_birth",
    "contact",
    "contact_preference",
    "safety",
    "check",
)

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("book.begin", "GET"): everyone(302),
    ("book.no_times", "GET"): everyone(302),
    ("book.find_you_sent", "GET"): everyone(302),
    ("book.urgent", "GET"): everyone(302),
    ("book.hold", "POST"): everyone(302),
    ("book.confirmation", "GET"): everyone(200),
    **{(f"book.{name}", "GET"): everyone(302) for name in _DRAFT_PAGES},
    **{(f"book.{name}", "POST"): everyone(302) for name in _DRAFT_PAGES},
    ("manage.session", "GET"): everyone(404),
    ("manage.session_day", "GET"): everyone(404),
    ("manage.session_day", "POST"): everyone(404),
    ("manage.session_time", "GET"): everyone(404),
    ("manage.session_time", "POST"): everyone(404),
    ("manage.session_check", "GET"): everyone(404),
    ("manage.session_check", "POST"): everyone(404),
    ("manage.session_cancel", "GET"): everyone(404),
    ("manage.session_cancel", "POST"): everyone(404),
    ("manage.session_done", "GET"): everyone(404),
    ("manage.session_calendar", "GET"): everyone(404),
    ("manage.link", "GET"): everyone(200),
    ("manage.link", "POST"): everyone(303),
    ("manage.link_sent", "GET"): everyone(200),
    ("patient.session", "GET"): only(P, 404),
    ("patient.session_day", "GET"): only(P, 404),
    ("patient.session_day", "POST"): only(P, 404),
    ("patient.session_time", "GET"): only(P, 404),
    ("patient.session_time", "POST"): only(P, 404),
    ("patient.session_check", "GET"): only(P, 404),
    ("patient.session_check", "POST"): only(P, 404),
    ("patient.session_cancel", "GET"): only(P, 404),
    ("patient.session_cancel", "POST"): only(P, 404),
    ("patient.session_done", "GET"): only(P, 404),
    ("patient.session_calendar", "GET"): only(P, 404),
}
