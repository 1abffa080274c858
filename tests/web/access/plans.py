"""Access entries for treatment plans (issue 17).

API: as the appointment endpoints, managers only (admins 403, patients' and no tokens 401);
form-encoded POSTs are refused with 400 once the token passes. Plan 1 does not exist in the
matrix's database, so reading it is 404 for those who may look. The practitioner pages answer
only practitioners, and only for their own patients' plans; the patient's pages only the
patient, and only for their own plans; reception's pages (reading, booking the rest of a plan)
only receptionists. The emailed scores link answers anyone, and 404 for a session that is not a
live plan session with that token.
"""

from __future__ import annotations

from tests.web.access.roles import AD, PR, A, P, R, everyone, only

MISSING = 999
URL_ARGS: dict[str, dict[str, object]] = {
    "api.get_plan": {"plan_id": 1},
    "practitioner.plan_new": {"patient_id": MISSING},
    "practitioner.plan_page": {"plan_id": MISSING},
    "practitioner.plan_change": {"plan_id": MISSING},
    "practitioner.plan_outcome": {"plan_id": MISSING},
    "patient.plan": {"plan_id": MISSING},
    "patient.plan_request_change": {"plan_id": MISSING},
    "patient.plan_scores": {"plan_id": MISSING},
    "patient.plan_scores_question": {"plan_id": MISSING, "step": "pain"},
    "patient.plan_scores_check": {"plan_id": MISSING},
    "reception.plan_page": {"plan_id": MISSING},
    "reception.plan_book": {"plan_id": MISSING},
    "reception.plan_scores": {"plan_id": MISSING},
    "reception.plan_request_done": {"plan_id": MISSING, "request_id": MISSING},
    "outcomes.start": {"appointment_id": MISSING, "token": "not-a-real-token"},
    "outcomes.question": {"appointment_id": MISSING, "step": "pain"},
    "outcomes.check": {"appointment_id": MISSING},
    "outcomes.sent": {"appointment_id": MISSING},
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
    # The patient's own plans: plan 999 is not theirs, answered as another patient's (404).
    ("patient.plan", "GET"): only(P, 404),
    ("patient.plan_request_change", "GET"): only(P, 404),
    ("patient.plan_request_change", "POST"): only(P, 404),
    ("patient.plan_scores", "GET"): only(P, 404),
    ("patient.plan_scores_question", "GET"): only(P, 404),
    ("patient.plan_scores_question", "POST"): only(P, 404),
    ("patient.plan_scores_check", "GET"): only(P, 404),
    ("patient.plan_scores_check", "POST"): only(P, 404),
    # Reception: every plan, read-only apart from booking its remaining sessions, scores
    # and change requests.
    ("reception.plan_page", "GET"): only(R, 404),
    ("reception.plan_book", "GET"): only(R, 404),
    ("reception.plan_book", "POST"): only(R, 404),
    ("reception.plan_scores", "POST"): only(R, 404),
    ("reception.plan_request_done", "POST"): only(R, 404),
    # The emailed scores link: the token (then this browser's draft) is the key.
    ("outcomes.start", "GET"): everyone(404),
    ("outcomes.question", "GET"): everyone(404),
    ("outcomes.question", "POST"): everyone(404),
    ("outcomes.check", "GET"): everyone(404),
    ("outcomes.check", "POST"): everyone(404),
    ("outcomes.sent", "GET"): everyone(404),
    ("practitioner.plan_book", "GET"): only(PR, 404),
    ("practitioner.plan_book", "POST"): only(PR, 404),
}
