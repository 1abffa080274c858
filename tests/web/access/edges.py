"""Access entries for issue 19's rough edges: public holidays per location, and the pages
that ask before a destructive admin action.

Location 1 is Islington (GB-ENG) in the demo; Christmas Day 2099 is always a coming holiday.
"""

from __future__ import annotations

from tests.web.access.roles import AD, only

_CHRISTMAS = {"location_id": 1, "on_date": "2099-12-25"}

URL_ARGS: dict[str, dict[str, object]] = {
    "admin.holiday_open": _CHRISTMAS,
    "admin.holiday_keep": _CHRISTMAS,
}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("admin.holidays_page", "GET"): only(AD),
    ("admin.holiday_open", "POST"): only(AD, 303),
    ("admin.holiday_keep", "POST"): only(AD, 303),
}
