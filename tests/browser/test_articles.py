"""Article list, pages and editing: 0 axe violations at 1280 and 320 px, headings, links."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete

from booking.extensions import db
from booking.models import Article
from tests.browser.conftest import NARROW, at_both_widths, axe_violations, what_axe_misses
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD

pytestmark = pytest.mark.browser

DEMO_SLUGS = [
    "acupuncture-and-chronic-low-back-pain-what-the-evidence-says",
    "cupping-and-moxibustion-explained",
    "needling-safety-and-common-side-effects",
    "preparing-for-and-after-your-session",
    "what-to-expect-at-your-first-session",
]
READER_PAGES = [
    "/articles/",
    "/articles/?tag=low-back-pain",
    "/articles/?q=needles",
    "/articles/?q=nothing-matches-this",  # the empty state
    "/articles/?q=" + "x" * 101,  # the error state
    *[f"/articles/{slug}" for slug in DEMO_SLUGS],
]
GENERIC_LINK_TEXT = {"click here", "here", "read more", "more", "link", "this page", "this"}

_HEADINGS_AND_LINKS = """() => {
  const main = document.querySelector('main');
  // GOV.UK puts the error summary and success banner (each with an h2) first in <main>.
  const headings = [...main.querySelectorAll('h1, h2, h3, h4, h5, h6')]
    .filter(h => !h.closest('.govuk-error-summary, .govuk-notification-banner'))
    .map(h => Number(h.tagName[1]));
  const links = [...main.querySelectorAll('a')]
    .map(a => a.textContent.trim().replace(/\\s+/g, ' '));
  return {headings, links};
}"""


def check_page(page: Any) -> None:
    at_both_widths(page, lambda: check_this_width(page))


def check_this_width(page: Any) -> None:
    assert axe_violations(page) == [], page.viewport_size
    assert what_axe_misses(page) == [], page.viewport_size
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.off_site == []
    found = page.evaluate(_HEADINGS_AND_LINKS)
    levels = found["headings"]
    assert levels[0] == 1, levels
    assert levels.count(1) == 1, levels
    assert all(after <= before + 1 for before, after in zip(levels, levels[1:], strict=False))
    for text in found["links"]:
        assert text, found["links"]
        assert text.lower() not in GENERIC_LINK_TEXT, found["links"]


def sign_in_as_admin(page: Any) -> None:
    page.goto("/auth/sign-in")
    page.get_by_label("Email address").fill(DEMO_EMAILS["admin"])
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")


@pytest.fixture
def cleanup_drafts(live_app: Flask) -> Iterator[None]:
    """Drafts written by these tests are removed so other browser tests never see them."""
    yield
    with live_app.app_context():
        db.session.execute(delete(Article).where(Article.slug.like("axe-draft-%")))
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("path", READER_PAGES, ids=lambda p: p[:60])
def test_reader_pages_have_no_axe_violations(page_factory: Any, path: str) -> None:
    """Each page at both widths."""
    page = page_factory(width=NARROW)
    response = page.goto(path)
    assert response is not None
    assert response.status == 200
    check_page(page)


def test_article_page_headings_and_booking_links(page_factory: Any) -> None:
    page = page_factory()
    page.goto("/articles/cupping-and-moxibustion-explained")
    assert page.locator("h1").inner_text() == "Cupping and moxibustion explained"
    assert page.title().startswith("Cupping and moxibustion explained – ")
    book = page.get_by_role("link", name="Book a session: Cupping and moxibustion")
    assert book.get_attribute("href") == "/?type=cupping-and-moxibustion"
    page.get_by_role("link", name="Preparing for and after your session").click()
    page.wait_for_url("**/articles/preparing-for-and-after-your-session")


def test_the_start_page_links_each_session_types_articles(page_factory: Any) -> None:
    page = page_factory()
    page.goto("/")
    link = page.get_by_role("link", name="Cupping and moxibustion explained")
    assert link.count() == 1
    link.click()
    page.wait_for_url("**/articles/cupping-and-moxibustion-explained")


def test_staff_pages_and_their_error_states_have_no_axe_violations(
    page_factory: Any, cleanup_drafts: None
) -> None:
    """One walk at 320 px; each page and error state checked at both widths."""
    width = NARROW
    page = page_factory(width=width)
    sign_in_as_admin(page)

    page.goto("/articles/manage")
    check_page(page)

    page.get_by_role("link", name="Write a new article").click()
    page.wait_for_url("**/articles/new")
    check_page(page)
    with page.expect_navigation():  # everything empty
        page.get_by_role("button", name="Save draft").click()
    assert page.title().startswith("Error: Write a new article")
    assert page.locator(".govuk-error-summary").is_visible()
    check_page(page)

    page.get_by_label("Title", exact=True).fill(f"Axe draft at {width} px")
    page.get_by_label("Web address (optional)").fill(f"axe-draft-{width}")
    page.get_by_label("Summary").fill("A draft to check the preview page.")
    page.get_by_label("Body").fill("# Heading\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nText.")
    page.get_by_label("References (optional)").fill("not a reference")
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    assert page.title().startswith("Error: ")
    check_page(page)

    page.get_by_label("References (optional)").fill("NHS | https://www.nhs.uk/")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(f"**/articles/axe-draft-{width}")
    assert page.get_by_role("button", name="Publish article").is_visible()
    check_page(page)  # the draft preview

    page.get_by_role("link", name="Edit this article").click()
    page.wait_for_url(f"**/articles/axe-draft-{width}/edit")
    check_page(page)
    page.get_by_label("Title", exact=True).fill("")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    assert page.title().startswith("Error: Edit article: ")
    check_page(page)
