"""Access entries for issue 19's rough edges: public holidays per location, and the pages
that ask before a destructive admin action (GET; their POST entries are in hours.py).

Location 1 is Islington (GB-ENG) in the demo; Christmas Day 2099 is always a coming holiday.
"""

from __future__ import annotations

from tests.web.access.roles import AD, PR, only

_CHRISTMAS = {"location_id": 1, "on_date": "2099-12-25"}

URL_ARGS: dict[str, dict[str, object]] = {
    "admin.holiday_open": _CHRISTMAS,
    "admin.holiday_keep": _CHRISTMAS,
}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("admin.holidays_page", "GET"): only(AD),
    ("admin.holiday_open", "POST"): only(AD, 303),
    ("admin.holiday_keep", "POST"): only(AD, 303),
    # The pages that ask before removing (URL_ARGS in hours.py: hours 1 exists, and the
    # demo has no time off or closures, so those are not found).
    ("admin.practitioner_hours_remove", "GET"): only(AD),
    ("admin.practitioner_time_off_remove", "GET"): only(AD, 404),
    ("admin.closure_remove", "GET"): only(AD, 404),
    ("practitioner.hours_remove", "GET"): only(PR),
    ("practitioner.time_off_remove", "GET"): only(PR, 404),
}
