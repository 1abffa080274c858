"""Access entries for reminders and delivery: the admin's email pages, the opt-out link.

The opt-out link with a made-up patient and token answers 404 to everyone (signed in or not):
the link is the credential. Retry and cancel of a message that does not exist answer 404 to
the admin.
"""

from __future__ import annotations

from tests.web.access.roles import AD, everyone, only

MISSING = 999999

URL_ARGS: dict[str, dict[str, object]] = {
    "admin.outbox_retry": {"message_id": MISSING},
    "admin.outbox_cancel": {"message_id": MISSING},
    "public.unsubscribe": {"patient_id": MISSING, "token": "not-a-real-token"},
}
# Valid answers (the defaults), so the admin's POST goes through the service (302 home).
POST_DATA: dict[str, dict[str, str]] = {
    "admin.reminders": {
        "reminder_24h": "yes",
        "reminder_2h": "no",
        "intake_reminder_auto": "yes",
        "reminder_details": "no",
    }
}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("admin.outbox_list", "GET"): only(AD),
    ("admin.outbox_retry", "POST"): only(AD, 404),
    ("admin.outbox_cancel", "POST"): only(AD, 404),
    ("admin.reminders", "GET"): only(AD),
    ("admin.reminders", "POST"): only(AD, 302),
    ("public.unsubscribe", "GET"): everyone(404),
    ("public.unsubscribe", "POST"): everyone(404),
}
