"""Access entries for the front desk (issue 15): find, create and read patients, book on
their behalf, cancel, resend emails, and the day sheet's check-in and no-show.

Receptionists only, but for booking on a practitioner's own calendar: other roles get 403,
anonymous is sent to sign in. A patient or session id that does not exist answers 404.
"""

from __future__ import annotations

from tests.web.access.roles import PR, R, only

MISSING = 999999
PATIENT = {"patient_id": MISSING}
SESSION = {"appointment_id": MISSING}
PATIENT_SESSION = {"patient_id": MISSING, "appointment_id": MISSING}

URL_ARGS: dict[str, dict[str, object]] = {
    "reception.patient_record": PATIENT,
    "reception.send_manage_links": PATIENT,
    "reception.resend_confirmation": PATIENT_SESSION,
    "reception.book_for": PATIENT,
    "reception.book_hold": PATIENT,
    "reception.book_confirm": PATIENT,
    "reception.cancel_session": PATIENT_SESSION,
    "reception.change_session": PATIENT_SESSION,
    "reception.check_in": SESSION,
    "reception.undo_check_in": SESSION,
    "reception.no_show": SESSION,
    "reception.undo_no_show": SESSION,
    "practitioner.book_for": PATIENT,
    "practitioner.book_hold": PATIENT,
    "practitioner.book_confirm": PATIENT,
}
POST_DATA: dict[str, dict[str, str]] = {
    "reception.cancel_session": {"reason": "Practitioner unwell"},
}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("reception.find_patient", "GET"): only(R),
    ("reception.new_patient", "GET"): only(R),
    ("reception.new_patient", "POST"): only(R),  # re-rendered with its errors
    ("reception.patient_record", "GET"): only(R, 404),
    ("reception.send_manage_links", "POST"): only(R, 404),
    ("reception.resend_confirmation", "POST"): only(R, 404),
    ("reception.book_for", "GET"): only(R, 404),
    ("reception.book_hold", "POST"): only(R, 404),
    ("reception.book_confirm", "GET"): only(R, 404),
    ("reception.book_confirm", "POST"): only(R, 404),
    ("reception.cancel_session", "GET"): only(R, 404),
    ("reception.cancel_session", "POST"): only(R, 404),
    ("reception.change_session", "GET"): only(R, 404),
    ("reception.change_session", "POST"): only(R, 404),
    ("reception.check_in", "POST"): only(R, 404),
    ("reception.undo_check_in", "POST"): only(R, 404),
    ("reception.no_show", "POST"): only(R, 404),
    ("reception.undo_no_show", "POST"): only(R, 404),
    # A practitioner books on their own calendar; a patient they do not treat is not found.
    ("practitioner.book_for", "GET"): only(PR, 404),
    ("practitioner.book_hold", "POST"): only(PR, 404),
    ("practitioner.book_confirm", "GET"): only(PR, 404),
    ("practitioner.book_confirm", "POST"): only(PR, 404),
}
