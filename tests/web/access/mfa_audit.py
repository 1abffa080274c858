"""Access entries for staff two-step sign-in, the admin's security page and the audit trail.

The two-step pages serve a browser whose sign-in waits for its code: with none waiting,
anonymous is sent to sign in and signed-in users to their home page. Setting up serves
staff only; patients have no second factor (404).
"""

from __future__ import annotations

from tests.web.access.roles import AD, PR, A, P, R, everyone, only

MISSING = 999999

URL_ARGS: dict[str, dict[str, object]] = {
    "admin.reset_two_step": {"user_id": MISSING},
}
# No code: the set-up page comes back with its error; the security form saves "off" as it was.
POST_DATA: dict[str, dict[str, str]] = {}

_SETUP = {A: 302, P: 404, PR: 200, R: 200, AD: 200}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("auth.two_step", "GET"): everyone(302),
    ("auth.two_step", "POST"): everyone(302),
    ("auth.two_step_setup", "GET"): _SETUP,
    ("auth.two_step_setup", "POST"): _SETUP,
    ("admin.security", "GET"): only(AD),
    ("admin.security", "POST"): only(AD, 303),
    ("admin.reset_two_step", "POST"): only(AD, 404),
    ("admin.audit", "GET"): only(AD),
}
