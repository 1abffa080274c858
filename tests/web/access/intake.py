"""Access entries for intake pages (patients and guests), the review queue and staff reads.

Ids that do not exist: a patient gets 404, anonymous is sent to sign in (they may own it),
staff get 403 on patient pages. Staff pages answer 404 for their own role (no such intake).
"""

from __future__ import annotations

from tests.web.access.roles import AD, PR, A, P, R, only

MISSING = 999999
INTAKE = {"intake_id": MISSING}
PATIENT = {"patient_id": MISSING}
_PATIENT_SIDE = {A: 302, P: 404, PR: 403, R: 403, AD: 403}
_GUEST_LINK = {A: 404, P: 404, PR: 403, R: 403, AD: 403}

URL_ARGS: dict[str, dict[str, object]] = {
    "intake.start": {"appointment_id": MISSING},
    "intake.start_guest": {"appointment_id": MISSING, "token": "not-a-real-token"},
    "intake.prove": {"appointment_id": MISSING, "token": "not-a-real-token"},
    "intake.resume": INTAKE,
    "intake.page": {"intake_id": MISSING, "page_key": "concern"},
    "intake.urgent": INTAKE,
    "intake.saved": INTAKE,
    "intake.check": INTAKE,
    "intake.sent": INTAKE,
    "intake.answers": INTAKE,
    "reception.intake_detail": INTAKE,
    "reception.intake_remind": {"appointment_id": MISSING},
    "reception.patient_health": PATIENT,
    "reception.patient_consent": PATIENT,
    "practitioner.intake_detail": INTAKE,
    "practitioner.patient_health": PATIENT,
    "practitioner.patient_consent": PATIENT,
}
POST_DATA: dict[str, dict[str, str]] = {
    "reception.intake_detail": {"comment": "Called the patient"},
    "reception.patient_consent": {"modality": "needling", "method": "paper"},
    "practitioner.patient_consent": {"modality": "needling", "method": "paper"},
}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("intake.index", "GET"): only(P),
    ("intake.start", "POST"): only(P, 404),
    ("intake.start_guest", "GET"): _GUEST_LINK,
    ("intake.start_guest", "POST"): _GUEST_LINK,
    ("intake.prove", "GET"): _GUEST_LINK,
    ("intake.prove", "POST"): _GUEST_LINK,
    ("intake.resume", "GET"): _PATIENT_SIDE,
    ("intake.page", "GET"): _PATIENT_SIDE,
    ("intake.page", "POST"): _PATIENT_SIDE,
    ("intake.urgent", "GET"): _PATIENT_SIDE,
    ("intake.saved", "GET"): _PATIENT_SIDE,
    ("intake.check", "GET"): _PATIENT_SIDE,
    ("intake.check", "POST"): _PATIENT_SIDE,
    ("intake.sent", "GET"): _PATIENT_SIDE,
    ("intake.answers", "GET"): _PATIENT_SIDE,
    ("reception.intake_queue", "GET"): only(R),
    ("reception.intake_detail", "GET"): only(R, 404),
    ("reception.intake_detail", "POST"): only(R, 404),
    ("reception.intake_remind", "POST"): only(R, 404),
    ("reception.patient_health", "GET"): only(R, 404),
    ("reception.patient_consent", "GET"): only(R, 404),
    ("reception.patient_consent", "POST"): only(R, 404),
    ("practitioner.intake_detail", "GET"): only(PR, 404),
    ("practitioner.patient_health", "GET"): only(PR, 404),
    ("practitioner.patient_consent", "GET"): only(PR, 404),
    ("practitioner.patient_consent", "POST"): only(PR, 404),
}
