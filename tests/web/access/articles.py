"""Access entries for the articles blueprint (issue 8); `articles.index` is in foundation.py.

Readers: anyone sees published articles. Writing: practitioners and admins (the `staff`
endpoints of the blueprint's one guard); anonymous users go to sign in, other roles get 403.
The demo practitioner (Mei Lin Chen) reviews articles, so she may publish; she did not write
the imported demo article, so she may not edit it.
"""

from __future__ import annotations

from tests.web.access.roles import AD, PR, A, P, R, everyone

SLUG = "what-to-expect-at-your-first-session"


def writers(ok: int, practitioner: int | None = None) -> dict[str, int]:
    return {A: 302, P: 403, PR: ok if practitioner is None else practitioner, R: 403, AD: ok}


ARTICLE_FORM = {
    "title": "What to expect at your first session",
    "summary": "A step-by-step guide to your first acupuncture session.",
    "body": "## Before you arrive\n\nYour first session lasts about 40 minutes.\n",
    "tags": "first-acupuncture-session, first-visit",
    "references": "Acupuncture (NHS website) | https://www.nhs.uk/tests-and-treatments/acupuncture/",
}

URL_ARGS: dict[str, dict[str, object]] = {
    "articles.show": {"slug": SLUG},
    "articles.edit": {"slug": SLUG},
    "articles.publish": {"slug": SLUG},
}
POST_DATA: dict[str, dict[str, str]] = {
    "articles.new": {**ARTICLE_FORM, "title": "Access matrix draft", "slug": ""},
    "articles.edit": ARTICLE_FORM,
    "articles.publish": {},
}

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("articles.show", "GET"): everyone(200),
    ("articles.manage", "GET"): writers(200),
    ("articles.new", "GET"): writers(200),
    # A saved draft redirects to its page.
    ("articles.new", "POST"): writers(302),
    # Practitioners edit only their own drafts; the demo article is published and imported.
    ("articles.edit", "GET"): writers(200, practitioner=403),
    ("articles.edit", "POST"): writers(302, practitioner=403),
    # Publishing needs an admin or a reviewer; the article is already published, so it redirects.
    ("articles.publish", "POST"): writers(302),
}
