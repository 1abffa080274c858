"""Access entries for the clinic set-up pages (admin only)."""

from __future__ import annotations

from tests.web.access.roles import AD, only

URL_ARGS: dict[str, dict[str, object]] = {
    "admin.location_edit": {"location_id": 1},
    "admin.room_new": {"location_id": 1},
    "admin.room_edit": {"room_id": 1},
    "admin.session_type_edit": {"session_type_id": 1},
}

_POLICIES = {
    "min_notice_minutes": "120",
    "max_advance_days": "90",
    "slot_step_minutes": "15",
    "cancellation_cutoff_hours": "24",
    "late_cancel_mode": "call",
    "missed_threshold": "3",
}
_LOCATION = {
    "address": "1 Test Street, London N1 1AA",
    "phone": "020 7946 0999",
    "country_code": "GB",
    "timezone": "Europe/London",
    "slot_step_minutes": "",
    "is_active": "yes",
}
_ROOM = {"kind": "treatment", "capacity": "1", "sort_order": "1", "is_active": "yes"}
_SESSION_TYPE = {
    "duration_minutes": "30",
    "buffer_before_minutes": "0",
    "buffer_after_minutes": "5",
    "price": "55",
    "audience": "any",
    "room_kind": "treatment",
    "sort_order": "9",
    "is_active": "yes",
}

# Valid answers, so the admin's POST goes all the way through the service (302 to the list).
POST_DATA: dict[str, dict[str, str]] = {
    "admin.policies": _POLICIES,
    "admin.location_new": {"name": "Access matrix clinic", **_LOCATION},
    "admin.location_edit": {"name": "Islington", **_LOCATION},
    "admin.room_new": {"name": "Access matrix room", **_ROOM},
    "admin.room_edit": {"name": "Treatment room 1", **_ROOM},
    "admin.session_type_new": {"name": "Access matrix session", **_SESSION_TYPE},
    "admin.session_type_edit": {"name": "First acupuncture session", **_SESSION_TYPE},
}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("admin.policies", "GET"): only(AD),
    ("admin.policies", "POST"): only(AD, 302),
    ("admin.locations", "GET"): only(AD),
    ("admin.location_new", "GET"): only(AD),
    ("admin.location_new", "POST"): only(AD, 302),
    ("admin.location_edit", "GET"): only(AD),
    ("admin.location_edit", "POST"): only(AD, 302),
    ("admin.room_new", "GET"): only(AD),
    ("admin.room_new", "POST"): only(AD, 302),
    ("admin.room_edit", "GET"): only(AD),
    ("admin.room_edit", "POST"): only(AD, 302),
    ("admin.session_types", "GET"): only(AD),
    ("admin.session_type_new", "GET"): only(AD),
    ("admin.session_type_new", "POST"): only(AD, 302),
    ("admin.session_type_edit", "GET"): only(AD),
    ("admin.session_type_edit", "POST"): only(AD, 302),
}
