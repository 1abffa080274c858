"""Access entries for clinical notes (issue 16).

Only practitioners reach the note routes; other signed-in roles get 404 at the blueprint
guard (its `hidden` endpoints: they are not told the notes exist), as from the notes services.
The demo seeds no notes or sessions here, so the ids below are not found (404) for the
practitioner; tests/web/test_clinical_note_pages.py walks every note route x role over a
real signed note and proves none changes it.
"""

from __future__ import annotations

from tests.web.access.roles import PR, R, hidden_from_others, only

MISSING = 999

URL_ARGS: dict[str, dict[str, object]] = {
    "practitioner.session_note": {"appointment_id": MISSING},
    "practitioner.note": {"note_id": MISSING},
    "practitioner.note_addendum": {"note_id": MISSING},
    "practitioner.patient_notes": {"patient_id": MISSING},
    "reception.note_follow_up_done": {"follow_up_id": MISSING},
}

POST_DATA: dict[str, dict[str, str]] = {
    "practitioner.session_note": {"action": "sign", "plan": "Access matrix"},
    "practitioner.note_addendum": {"text": "Access matrix"},
}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("practitioner.session_note", "GET"): hidden_from_others(PR, 404),
    ("practitioner.session_note", "POST"): hidden_from_others(PR, 404),
    ("practitioner.note", "GET"): hidden_from_others(PR, 404),
    ("practitioner.note_addendum", "POST"): hidden_from_others(PR, 404),
    ("practitioner.patient_notes", "GET"): hidden_from_others(PR, 404),
    ("reception.note_follow_up_done", "POST"): only(R, 404),
}
