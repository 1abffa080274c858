"""Access entries for accounts (issue 19): reset, sign-up, invitations, staff accounts,
a patient's contact details.

The emailed-link pages are open to everyone; a made-up token answers the one "link no longer
works" page (404). The admin's buttons name an account that does not exist (404), so the
matrix run disables nobody.
"""

from __future__ import annotations

from tests.web.access.roles import AD, A, P, everyone, only

NO_SUCH_USER = 999_999

URL_ARGS: dict[str, dict[str, object]] = {
    "auth.link_sent": {"purpose": "reset"},
    "auth.reset_password": {"token": "not-a-real-token"},
    "auth.create_account_link": {"token": "not-a-real-token"},
    "auth.invitation": {"token": "not-a-real-token"},
    "admin.account_resend": {"user_id": NO_SUCH_USER},
    "admin.account_revoke": {"user_id": NO_SUCH_USER},
    "admin.account_disable": {"user_id": NO_SUCH_USER},
    "admin.account_enable": {"user_id": NO_SUCH_USER},
}
# No answers: each form comes back with its errors (200) and nothing is sent or changed.
POST_DATA: dict[str, dict[str, str]] = {}

_signed_in_go_home = {**everyone(302), A: 200}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("auth.forgot_password", "GET"): everyone(200),
    ("auth.forgot_password", "POST"): everyone(200),
    ("auth.link_sent", "GET"): everyone(200),
    ("auth.reset_password", "GET"): everyone(404),
    ("auth.reset_password", "POST"): everyone(404),
    ("auth.create_account", "GET"): _signed_in_go_home,
    ("auth.create_account", "POST"): everyone(200),
    ("auth.create_account_link", "GET"): everyone(404),
    ("auth.create_account_link", "POST"): everyone(404),
    ("auth.invitation", "GET"): everyone(404),
    ("auth.invitation", "POST"): everyone(404),
    ("admin.accounts", "GET"): only(AD),
    ("admin.account_invite", "GET"): only(AD),
    ("admin.account_invite", "POST"): only(AD),
    ("admin.account_resend", "POST"): only(AD, 404),
    ("admin.account_revoke", "POST"): only(AD, 404),
    ("admin.account_disable", "POST"): only(AD, 404),
    ("admin.account_enable", "POST"): only(AD, 404),
    ("patient.contact_details", "GET"): only(P),
    ("patient.contact_details", "POST"): only(P),
}
