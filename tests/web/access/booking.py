"""Access entries for the booking journey, manage links and a patient's session pages.

Journey pages need a draft (made by GET /book): a client without one goes to `/` (302).
Manage pages with an unknown token answer the 404 "link has expired" page.
"""

from __future__ import annotations

from tests.web.access.roles import P, everyone, only

TOKEN = {"token": "not-a-real-token"}
SESSION = {"appointment_id": 999999}

_MANAGE = (
    "public.manage",
    "public.manage_day",
    "public.manage_time",
    "public.manage_check",
    "public.manage_cancel",
    "public.manage_done",
    "public.manage_calendar",
)
_SESSIONS = tuple(name.replace("public.manage", "patient.session") for name in _MANAGE)
URL_ARGS: dict[str, dict[str, object]] = {
    "public.book_find_you_link": TOKEN,
    **dict.fromkeys(_MANAGE, TOKEN),
    **dict.fromkeys(_SESSIONS, SESSION),
}
POST_DATA: dict[str, dict[str, str]] = {
    "public.manage_link": {"email": "nobody@example.com"},
}

_DRAFT_PAGES = (
    "book_type",
    "book_location",
    "book_practitioner",
    "book_day",
    "book_time",
    "book_taken",
    "book_expired",
    "book_returning",
    "book_find_you",
    "book_find_you_link",
    "book_name",
    "book_date_of_birth",
    "book_contact",
    "book_contact_preference",
    "book_safety",
    "book_check",
)

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("public.book", "GET"): everyone(302),
    ("public.book_no_times", "GET"): everyone(302),
    ("public.book_find_you_sent", "GET"): everyone(302),
    ("public.book_urgent", "GET"): everyone(302),
    ("public.book_hold", "POST"): everyone(302),
    ("public.book_confirmation", "GET"): everyone(200),
    **{(f"public.{name}", "GET"): everyone(302) for name in _DRAFT_PAGES},
    **{(f"public.{name}", "POST"): everyone(302) for name in _DRAFT_PAGES},
    ("public.manage", "GET"): everyone(404),
    ("public.manage_day", "GET"): everyone(404),
    ("public.manage_day", "POST"): everyone(404),
    ("public.manage_time", "GET"): everyone(404),
    ("public.manage_time", "POST"): everyone(404),
    ("public.manage_check", "GET"): everyone(404),
    ("public.manage_check", "POST"): everyone(404),
    ("public.manage_cancel", "GET"): everyone(404),
    ("public.manage_cancel", "POST"): everyone(404),
    ("public.manage_done", "GET"): everyone(404),
    ("public.manage_calendar", "GET"): everyone(404),
    ("public.manage_link", "GET"): everyone(200),
    ("public.manage_link", "POST"): everyone(303),
    ("public.manage_link_sent", "GET"): everyone(200),
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
