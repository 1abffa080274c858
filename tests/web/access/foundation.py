"""Access entries for the foundation's routes."""

from __future__ import annotations

from tests.web.access.roles import AD, PR, A, P, R, everyone, only

URL_ARGS: dict[str, dict[str, object]] = {}
POST_DATA: dict[str, dict[str, str]] = {}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("public.start", "GET"): everyone(200),
    ("public.accessibility", "GET"): everyone(200),
    ("public.privacy", "GET"): everyone(200),
    ("public.cookies", "GET"): everyone(200),
    ("public.get_help", "GET"): everyone(200),
    # A signed-in user visiting sign-in is sent to their home page.
    ("auth.sign_in", "GET"): {A: 200, P: 302, PR: 302, R: 302, AD: 302},
    # An empty sign-in form re-renders with its errors for anyone.
    ("auth.sign_in", "POST"): everyone(200),
    ("auth.sign_out", "POST"): everyone(302),
    ("auth.stay_signed_in", "POST"): everyone(302),
    ("patient.home", "GET"): only(P),
    ("practitioner.home", "GET"): only(PR),
    ("reception.home", "GET"): only(R),
    ("admin.home", "GET"): only(AD),
    ("articles.index", "GET"): everyone(200),
}
