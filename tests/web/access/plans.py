"""Access entries for treatment plans (issue 17).

API: as the appointment endpoints, managers only (admins 403, patients' and no tokens 401);
form-encoded POSTs are refused with 400 once the token passes. Plan 1 does not exist in the
matrix's database, so reading it is 404 for those who may look. The practitioner pages answer
only practitioners, and only for their own patients' plans.
"""

from __future__ import annotations

from tests.web.access.roles import AD, PR, A, P, R, only

MISSING = 999
URL_ARGS: dict[str, dict[str, object]] = {
    "api.get_plan": {"plan_id": 1},
    "practitioner.plan_new": {"patient_id": MISSING},
    "practitioner.plan_page": {"plan_id": MISSING},
    "practitioner.plan_change": {"plan_id": MISSING},
    "practitioner.plan_outcome": {"plan_id": MISSING},
    "practitioner.plan_book": {"plan_id": MISSING},
}
POST_DATA: dict[str, dict[str, str]] = {}


def _managers(ok: int) -> dict[str, int]:
    return {A: 401, P: 401, PR: ok, R: ok, AD: 403}


MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("api.propose_plan", "POST"): _managers(400),
    ("api.create_plan", "POST"): _managers(400),
    ("api.get_plan", "GET"): _managers(404),
    # Pages: practitioners only (others 403 or sign-in), and only their own patients' plans:
    # patient and plan 999 do not exist, answered exactly as another practitioner's (404).
    ("practitioner.plan_new", "GET"): only(PR, 404),
    ("practitioner.plan_new", "POST"): only(PR, 404),
    ("practitioner.plan_page", "GET"): only(PR, 404),
    ("practitioner.plan_change", "POST"): only(PR, 404),
    ("practitioner.plan_outcome", "POST"): only(PR, 404),
    ("practitioner.plan_book", "GET"): only(PR, 404),
    ("practitioner.plan_book", "POST"): only(PR, 404),
}
