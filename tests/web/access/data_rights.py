"""Access entries for patients' data rights (export, erasure), the admin's erasure queue
and the public health check.

The export and erasure pages belong to the signed-in patient (no id in the URL); the demo
patient has a profile, so they answer 200. No POST data: a real erasure request would change
the demo patient for the rest of the run, so the form comes back with its error (200).
"""

from __future__ import annotations

from tests.web.access.roles import AD, everyone, only

MISSING = 999999

URL_ARGS: dict[str, dict[str, object]] = {
    "admin.erasure_request": {"erasure_id": MISSING},
}
POST_DATA: dict[str, dict[str, str]] = {}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("public.healthz", "GET"): everyone(200),
    ("patient.data", "GET"): only("patient"),
    ("patient.data_export", "GET"): only("patient"),
    ("patient.data_export_json", "GET"): only("patient"),
    ("patient.data_erase", "GET"): only("patient"),
    ("patient.data_erase", "POST"): only("patient"),
    ("admin.erasure_requests", "GET"): only(AD),
    ("admin.erasure_request", "GET"): only(AD, 404),
    ("admin.erasure_request", "POST"): only(AD, 404),
}
