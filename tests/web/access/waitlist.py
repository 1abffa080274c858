"""Access entries for the waitlist (offer link, joining, reception's list) and the check-in.

Token pages are open to anyone and answer 404 for a token that does not exist. An entry or
report id that does not exist answers 404 to the role that may use the page.
"""

from __future__ import annotations

from tests.web.access.roles import AD, PR, A, P, R, everyone, only

MISSING = 999999
BAD_TOKEN = {"token": "not-a-real-token"}

URL_ARGS: dict[str, dict[str, object]] = {
    "waitlist.offer": BAD_TOKEN,
    "aftercare.report": BAD_TOKEN,
    "aftercare.sent": BAD_TOKEN,
    "patient.waitlist_remove": {"entry_id": MISSING},
    "reception.waitlist_remove": {"entry_id": MISSING},
    "reception.follow_up_done": {"report_id": MISSING},
}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("waitlist.offer", "GET"): everyone(404),
    ("waitlist.offer", "POST"): everyone(404),
    # A signed-in patient is sent to their own waitlist page; the form is for guests.
    ("waitlist.join", "GET"): {A: 200, P: 302, PR: 200, R: 200, AD: 200},
    ("waitlist.join", "POST"): {A: 200, P: 302, PR: 200, R: 200, AD: 200},
    ("waitlist.joined", "GET"): everyone(200),
    ("aftercare.report", "GET"): everyone(404),
    ("aftercare.report", "POST"): everyone(404),
    ("aftercare.sent", "GET"): everyone(404),
    ("patient.waitlist", "GET"): only(P),
    ("patient.waitlist", "POST"): only(P),  # the form comes back with its errors
    ("patient.waitlist_remove", "POST"): only(P, 404),
    ("reception.waitlist", "GET"): only(R),
    ("reception.waitlist_new", "GET"): only(R),
    ("reception.waitlist_new", "POST"): only(R),
    ("reception.waitlist_remove", "POST"): only(R, 404),
    ("reception.follow_ups", "GET"): only(R),
    ("reception.follow_up_done", "POST"): only(R, 404),
}
