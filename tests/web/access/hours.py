"""Access entries for practitioners, weekly hours, time off and closures.

Admins reach every practitioner's pages; practitioners reach only their own, under
/practitioner/. Ids come from the demo seed order: practitioner 1 is Mei Lin Chen (the demo
practitioner who signs in), whose first weekly interval (hours 1) is Monday 9am to 1pm at
Islington (location 1). The demo seeds no time off or closures, so 999 is never found.
"""

from __future__ import annotations

from tests.web.access.roles import AD, PR, only

MISSING = 999

URL_ARGS: dict[str, dict[str, object]] = {
    "admin.practitioner_edit": {"practitioner_id": 1},
    "admin.practitioner_hours": {"practitioner_id": 1},
    "admin.practitioner_hours_remove": {"practitioner_id": 1, "hours_id": 1},
    "admin.practitioner_time_off": {"practitioner_id": 1},
    "admin.practitioner_time_off_remove": {"practitioner_id": 1, "exception_id": MISSING},
    "admin.closure_remove": {"exception_id": MISSING},
    "practitioner.hours_remove": {"hours_id": 1},
    "practitioner.time_off_remove": {"exception_id": MISSING},
}

# Sunday: nobody in the demo works then, so these hours overlap nothing.
_HOURS = {"location_id": "1", "weekday": "6", "start_time": "10am", "end_time": "12:30"}
# Far enough ahead never to be in the past, whatever the clock says.
_FUTURE = {"on_date-day": "2", "on_date-month": "1", "on_date-year": "2099"}
_TIME_OFF = {"kind": "time_off", **_FUTURE, "reason": "Access matrix"}

# Valid answers, so the allowed role's POST goes all the way through the service (302).
POST_DATA: dict[str, dict[str, str]] = {
    "admin.practitioner_new": {
        "display_name": "Access Matrix Practitioner",
        "email": "access.matrix@meridian.example",
    },
    "admin.practitioner_edit": {
        "display_name": "Mei Lin Chen",
        "bio": "",
        "session_type_ids": "1",
        "can_review_articles": "yes",
        "is_active": "yes",
    },
    "admin.practitioner_hours": _HOURS,
    "practitioner.hours": _HOURS,
    "admin.practitioner_time_off": _TIME_OFF,
    "practitioner.time_off": _TIME_OFF,
    "admin.closures": {"kind": "closure", "location_id": "2", **_FUTURE},
}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("admin.practitioners", "GET"): only(AD),
    ("admin.practitioner_new", "GET"): only(AD),
    ("admin.practitioner_new", "POST"): only(AD, 302),
    ("admin.practitioner_edit", "GET"): only(AD),
    ("admin.practitioner_edit", "POST"): only(AD, 302),
    ("admin.practitioner_hours", "GET"): only(AD),
    ("admin.practitioner_hours", "POST"): only(AD, 302),
    ("admin.practitioner_hours_remove", "POST"): only(AD, 302),
    ("admin.practitioner_time_off", "GET"): only(AD),
    ("admin.practitioner_time_off", "POST"): only(AD, 302),
    # Nothing to remove: the service answers NotFound.
    ("admin.practitioner_time_off_remove", "POST"): only(AD, 404),
    ("admin.closures", "GET"): only(AD),
    ("admin.closures", "POST"): only(AD, 302),
    ("admin.closure_remove", "POST"): only(AD, 404),
    ("practitioner.hours", "GET"): only(PR),
    ("practitioner.hours", "POST"): only(PR, 302),
    ("practitioner.hours_remove", "POST"): only(PR, 302),
    ("practitioner.time_off", "GET"): only(PR),
    ("practitioner.time_off", "POST"): only(PR, 302),
    ("practitioner.time_off_remove", "POST"): only(PR, 404),
}
