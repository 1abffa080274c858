"""Access entries for the practitioner's calendar, session actions and calendar feed (issue 15).

Only practitioners reach /practitioner/ (receptionists and admins have their own pages; 403),
and only their own sessions: the demo seeds no appointments, so session 999 is not found for
the practitioner (404) exactly as another practitioner's session is
(tests/web/test_practitioner_calendar.py proves that with a real one). The feed is public by
its secret token: a made-up token is 404 for everyone.
"""

from __future__ import annotations

from tests.web.access.roles import PR, everyone, only

MISSING = 999
SESSION = {"appointment_id": MISSING}

URL_ARGS: dict[str, dict[str, object]] = {
    "practitioner.session_completed": SESSION,
    "practitioner.session_no_show": SESSION,
    "practitioner.session_undo": SESSION,
    "practitioner.session_change_time": SESSION,
    "practitioner.session_cancel": SESSION,
    "public.calendar_feed": {"token": "not-a-real-feed-token"},
}

POST_DATA: dict[str, dict[str, str]] = {
    "practitioner.session_cancel": {"reason": "Access matrix"},
}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("practitioner.day", "GET"): only(PR),
    ("practitioner.day_print", "GET"): only(PR),
    ("practitioner.week", "GET"): only(PR),
    ("practitioner.session_completed", "POST"): only(PR, 404),
    ("practitioner.session_no_show", "POST"): only(PR, 404),
    ("practitioner.session_undo", "POST"): only(PR, 404),
    ("practitioner.session_change_time", "GET"): only(PR, 404),
    ("practitioner.session_change_time", "POST"): only(PR, 404),
    ("practitioner.session_cancel", "GET"): only(PR, 404),
    ("practitioner.session_cancel", "POST"): only(PR, 404),
    ("practitioner.calendar_feed", "GET"): only(PR),
    # The new address is shown once, on the page answering the POST.
    ("practitioner.calendar_feed_new", "POST"): only(PR),
    ("practitioner.calendar_feed_stop", "POST"): only(PR, 302),
    ("public.calendar_feed", "GET"): everyone(404),
}
