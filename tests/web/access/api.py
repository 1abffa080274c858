"""Access entries for the JSON API (issue 9).

The matrix test sends the bearer token of the role's demo user for api.* endpoints (none
for anonymous); a patient's token is refused like no token. POSTs carry form data, which
the API refuses with 400 once the token and role pass. Admins do not manage sessions
(domain.md §6), so the appointment endpoints answer them 403. The demo has no appointments:
appointment 1 is 404 for those who may look.
"""

from __future__ import annotations

from tests.web.access.roles import AD, PR, A, P, R, api_staff, everyone

URL_ARGS: dict[str, dict[str, object]] = {
    "api.get_appointment": {"appointment_id": 1},
    "api.cancel": {"appointment_id": 1},
}
POST_DATA: dict[str, dict[str, str]] = {}


def _managers(ok: int) -> dict[str, int]:
    return {A: 401, P: 401, PR: ok, R: ok, AD: 403}


MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("api.me", "GET"): api_staff(),
    ("api.openapi", "GET"): everyone(200),
    ("api.locations", "GET"): everyone(200),
    ("api.practitioners", "GET"): everyone(200),
    ("api.session_types", "GET"): everyone(200),
    # No query: the required parameters are missing.
    ("api.availability", "GET"): everyone(400),
    ("api.list_appointments", "GET"): _managers(200),
    ("api.create_appointment", "POST"): _managers(400),
    ("api.get_appointment", "GET"): _managers(404),
    ("api.cancel", "POST"): _managers(404),
}
