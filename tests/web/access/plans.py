"""Access entries for treatment plans (issue 17).

API: as the appointment endpoints, managers only (admins 403, patients' and no tokens 401);
form-encoded POSTs are refused with 400 once the token passes. Plan 1 does not exist in the
matrix's database, so reading it is 404 for those who may look.
"""

from __future__ import annotations

from tests.web.access.roles import AD, PR, A, P, R

URL_ARGS: dict[str, dict[str, object]] = {
    "api.get_plan": {"plan_id": 1},
}
POST_DATA: dict[str, dict[str, str]] = {}


def _managers(ok: int) -> dict[str, int]:
    return {A: 401, P: 401, PR: ok, R: ok, AD: 403}


MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("api.propose_plan", "POST"): _managers(400),
    ("api.create_plan", "POST"): _managers(400),
    ("api.get_plan", "GET"): _managers(404),
}
