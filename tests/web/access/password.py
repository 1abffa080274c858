"""Access entries for changing one's own password: every signed-in role, anonymous to sign-in."""

from __future__ import annotations

from tests.web.access.roles import AD, PR, A, P, R

URL_ARGS: dict[str, dict[str, object]] = {}
# No answers: a POST that changed the demo password would stop the next sign-in of the
# matrix run, so signed-in roles get the form back with its errors (200).
POST_DATA: dict[str, dict[str, str]] = {}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("auth.change_password", "GET"): {A: 302, P: 200, PR: 200, R: 200, AD: 200},
    ("auth.change_password", "POST"): {A: 302, P: 200, PR: 200, R: 200, AD: 200},
}
