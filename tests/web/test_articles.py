"""Article pages through the test client: drafts, editing, publishing, list, links."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import Article, ArticleStatus, User
from booking.services.articles import editing, queries, validation
from tests.conftest import count_queries, csrf_from, sign_in

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
DEMO_SLUG = "what-to-expect-at-your-first-session"
TOM = "tom.okafor@meridian.example"  # a practitioner who is not an article reviewer
FORM = {
    "title": "Sleep and acupuncture",
    "summary": "What research says about sleep.",
    "body": "# Sleep\n\nResults vary.\n\n## Tips\n\n- rest",
    "tags": "sleep, follow-up-acupuncture",
    "references": "A sleep study | https://doi.org/10.1000/sleep",
    "slug": "",
}
GENERIC_LINK_TEXT = {"click here", "here", "read more", "more", "link", "this page", "this"}


class _Page(HTMLParser):
    """Headings and links inside <main>, with their text (hidden text included)."""

    def __init__(self) -> None:
        super().__init__()
        self.in_main = False
        self.headings: list[tuple[int, str]] = []
        self.links: list[tuple[str, str]] = []
        self._heading: list[str] | None = None
        self._link: list[str] | None = None
        self._href = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self.in_main = True
        if not self.in_main:
            return
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [tag]
        if tag == "a":
            self._link, self._href = [], dict(attrs).get("href") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.in_main = False
        if self._heading is not None and tag == self._heading[0]:
            self.headings.append((int(tag[1]), " ".join("".join(self._heading[1:]).split())))
            self._heading = None
        if self._link is not None and tag == "a":
            self.links.append((" ".join("".join(self._link).split()), self._href))
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)
        if self._link is not None:
            self._link.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def assert_headings_in_order_and_links_descriptive(html: str) -> _Page:
    page = parse(html)
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1, page.headings
    assert levels.count(1) == 1, page.headings
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, page.headings
    for text, _href in page.links:
        assert text, page.links
        assert text.lower() not in GENERIC_LINK_TEXT, page.links
    return page


def make_draft(app: Flask, email: str = "mei.chen@meridian.example", **fields: str) -> str:
    with app.app_context():
        author = db.session.scalar(select(User).where(User.email == email))
        data = validation.check_input(
            title=fields.get("title", "A draft about sleep"),
            summary="Not ready yet.",
            body=fields.get("body", "## Sleep\n\nResults vary."),
            tags=["follow-up-acupuncture"],
        )
        article = editing.create_article(data, slug=None, actor=author, now=NOW)
        db.session.commit()
        return article.slug


def post_form(client: FlaskClient, path: str, data: dict[str, str]) -> object:
    token = csrf_from(client.get(path).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


# ---- Drafts ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["anonymous", "patient", "receptionist"])
def test_drafts_are_404_for_patients_anonymous_and_reception(
    demo: Flask, login_as: Callable[[str], FlaskClient], role: str
) -> None:
    slug = make_draft(demo)
    client = login_as(role)
    assert client.get(f"/articles/{slug}").status_code == 404
    assert slug not in client.get("/articles/").get_data(as_text=True)
    assert slug not in client.get("/articles/?q=sleep").get_data(as_text=True)
    assert slug not in client.get("/articles/?tag=follow-up-acupuncture").get_data(as_text=True)
    assert slug not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("role", ["practitioner", "admin"])
def test_practitioners_and_admins_preview_drafts(
    demo: Flask, login_as: Callable[[str], FlaskClient], role: str
) -> None:
    slug = make_draft(demo)
    response = login_as(role).get(f"/articles/{slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Patients cannot see this draft." in html
    assert "Publish article" in html  # Mei Lin Chen reviews articles; admins publish


def test_staff_pages_send_anonymous_users_to_sign_in(demo: Flask) -> None:
    client = demo.test_client()
    for path in ("/articles/manage", "/articles/new", f"/articles/{DEMO_SLUG}/edit"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/sign-in?next=")
    response = client.post(f"/articles/{DEMO_SLUG}/publish")
    assert response.status_code in {302, 400}  # guard first; CSRF would refuse it anyway


# ---- Writing and publishing -------------------------------------------------------------


def test_a_practitioner_writes_a_draft_and_a_reviewer_publishes_it(
    demo: Flask, login_as: Callable[[str], FlaskClient]
) -> None:
    tom = demo.test_client()
    sign_in(tom, TOM)
    response = post_form(tom, "/articles/new", FORM)
    assert response.status_code == 302
    assert response.headers["Location"] == "/articles/sleep-and-acupuncture"
    page = tom.get("/articles/sleep-and-acupuncture").get_data(as_text=True)
    assert "Draft saved" in page
    assert "An admin or an article reviewer must publish it." in page
    assert "Publish article" not in page
    # Tom may edit his own draft but not publish it.
    edited = post_form(tom, "/articles/sleep-and-acupuncture/edit", {**FORM, "title": "Sleep"})
    assert edited.status_code == 302
    token = csrf_from(tom.get("/articles/new").get_data(as_text=True))
    refused = tom.post("/articles/sleep-and-acupuncture/publish", data={"csrf_token": token})
    assert refused.status_code == 403
    assert login_as("anonymous").get("/articles/sleep-and-acupuncture").status_code == 404

    reviewer = login_as("practitioner")
    token = csrf_from(reviewer.get("/articles/sleep-and-acupuncture").get_data(as_text=True))
    published = reviewer.post("/articles/sleep-and-acupuncture/publish", data={"csrf_token": token})
    assert published.status_code == 302
    html = login_as("anonymous").get("/articles/sleep-and-acupuncture").get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Sleep</h1>' in html
    with demo.app_context():
        article = db.session.scalar(select(Article).where(Article.slug == "sleep-and-acupuncture"))
        assert article.status == ArticleStatus.published
        assert article.reviewer.email == "mei.chen@meridian.example"
        assert article.reviewed_at is not None
        assert article.revision == 2
    assert "Reviewed by Mei Lin Chen on " in html
    # Once published, Tom can no longer edit it.
    assert tom.get("/articles/sleep-and-acupuncture/edit").status_code == 403


def test_practitioners_cannot_edit_someone_elses_draft(demo: Flask) -> None:
    slug = make_draft(demo)  # written by Mei Lin Chen
    tom = demo.test_client()
    sign_in(tom, TOM)
    assert tom.get(f"/articles/{slug}").status_code == 200  # may preview
    assert tom.get(f"/articles/{slug}/edit").status_code == 403


@pytest.mark.parametrize(
    ("fields", "messages"),
    [
        (
            {"title": "", "summary": "", "body": ""},
            ["Enter a title", "Enter a summary", "Enter the body of the article"],
        ),
        ({"title": "x" * 201}, ["Title must be 200 characters or fewer"]),
        ({"slug": "Not A Slug"}, ["Web address must use only lower-case letters"]),
        ({"slug": DEMO_SLUG}, ["An article already uses that web address"]),
        ({"slug": "manage"}, ["Web address cannot be"]),
        ({"references": "no bar here"}, ["Enter each reference on its own line"]),
        ({"references": "Bad | javascript:alert(1)"}, ["must start with https://"]),
        ({"tags": "back pain!"}, ["Tags must use only letters"]),
    ],
)
def test_the_article_form_shows_each_error(
    login_as: Callable[[str], FlaskClient], fields: dict[str, str], messages: list[str]
) -> None:
    client = login_as("admin")
    response = post_form(client, "/articles/new", {**FORM, **fields})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<title>Error: Write a new article" in html
    assert "There is a problem" in html
    for message in messages:
        assert message in html
    for word in ("please", "sorry", "valid", "invalid", "required"):
        assert word not in " ".join(messages).lower()


def test_the_edit_form_is_filled_and_shows_errors(login_as: Callable[[str], FlaskClient]) -> None:
    client = login_as("admin")
    html = client.get(f"/articles/{DEMO_SLUG}/edit").get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Edit article: What to expect at your first session' in html
    tags = re.search(r'id="tags" name="tags"[^>]*value="([^"]*)"', html)
    assert tags is not None
    assert set(tags.group(1).split(", ")) == {
        "community-acupuncture",
        "first-acupuncture-session",
        "first-visit",
    }
    assert "https://www.nhs.uk/tests-and-treatments/acupuncture/" in html
    response = post_form(client, f"/articles/{DEMO_SLUG}/edit", {**FORM, "title": ""})
    assert response.status_code == 200
    assert "Enter a title" in response.get_data(as_text=True)


def test_the_manage_page_lists_drafts_with_edit_links_for_what_you_may_edit(
    demo: Flask, login_as: Callable[[str], FlaskClient]
) -> None:
    slug = make_draft(demo, email=TOM)
    admin = login_as("admin").get("/articles/manage").get_data(as_text=True)
    assert f"/articles/{slug}/edit" in admin
    assert f"/articles/{DEMO_SLUG}/edit" in admin
    mei = login_as("practitioner").get("/articles/manage").get_data(as_text=True)
    assert f'/articles/{slug}"' in mei  # she can read Tom's draft ...
    assert f"/articles/{slug}/edit" not in mei  # ... but not edit it
    assert f"/articles/{DEMO_SLUG}/edit" not in mei


# ---- Reading --------------------------------------------------------------------------------


def test_the_list_filters_by_tag_and_searches(login_as: Callable[[str], FlaskClient]) -> None:
    client = login_as("anonymous")
    everything = client.get("/articles/").get_data(as_text=True)
    assert everything.count("<h3") == 5
    assert_headings_in_order_and_links_descriptive(everything)
    cupping = client.get("/articles/?tag=cupping-and-moxibustion").get_data(as_text=True)
    assert "Articles about Cupping and moxibustion" in cupping
    assert "Cupping and moxibustion explained" in cupping
    assert "What to expect at your first session" not in cupping.split("Topics")[0]
    found = client.get("/articles/?q=MUGWORT").get_data(as_text=True)
    assert "Articles matching “MUGWORT”" in found
    assert found.count("<h3") == 1
    none = client.get("/articles/?q=zzzz-nothing").get_data(as_text=True)
    assert "There are no articles matching your search yet." in none
    assert client.get("/articles/?tag=no-such-tag").status_code == 404


def test_a_search_that_is_too_long_is_an_error_not_a_query(
    login_as: Callable[[str], FlaskClient],
) -> None:
    response = login_as("anonymous").get("/articles/?q=" + "x" * 101)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<title>Error: Articles" in html
    assert "Search must be 100 characters or fewer" in html


def test_search_text_is_escaped_when_shown(login_as: Callable[[str], FlaskClient]) -> None:
    html = (
        login_as("anonymous").get("/articles/?q=<script>alert(1)</script>").get_data(as_text=True)
    )
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_article_page_has_its_title_as_h1_booking_links_and_related_articles(
    login_as: Callable[[str], FlaskClient],
) -> None:
    html = login_as("anonymous").get(f"/articles/{DEMO_SLUG}").get_data(as_text=True)
    page = assert_headings_in_order_and_links_descriptive(html)
    assert page.headings[0] == (1, "What to expect at your first session")
    assert "<title>What to expect at your first session – " in html
    links = dict(page.links)
    assert links["Book a session: First acupuncture session"] == "/?type=first-acupuncture-session"
    assert links["Book a session: Community acupuncture"] == "/?type=community-acupuncture"
    assert (2, "Related articles") in page.headings
    assert (2, "References") in page.headings
    assert "Needling safety and common side effects" in links


@pytest.mark.parametrize(
    "slug",
    [
        "acupuncture-and-chronic-low-back-pain-what-the-evidence-says",
        "cupping-and-moxibustion-explained",
        "needling-safety-and-common-side-effects",
        "preparing-for-and-after-your-session",
        "what-to-expect-at-your-first-session",
    ],
)
def test_every_demo_article_has_ordered_headings_and_descriptive_links(
    login_as: Callable[[str], FlaskClient], slug: str
) -> None:
    response = login_as("anonymous").get(f"/articles/{slug}")
    assert response.status_code == 200
    page = assert_headings_in_order_and_links_descriptive(response.get_data(as_text=True))
    assert any(text.startswith("Book a session: ") for text, _ in page.links)


def test_a_title_with_markup_is_shown_as_text(demo: Flask) -> None:
    with demo.app_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@meridian.example"))
        data = validation.check_input(
            title='<img src=x onerror="alert(1)"> Title', summary="<b>s</b>", body="b"
        )
        article = editing.create_article(data, slug="markup-title", actor=admin, now=NOW)
        editing.publish_article(article, actor=admin, now=NOW)
        db.session.commit()
    client = demo.test_client()
    for path in ("/articles/markup-title", "/articles/"):
        html = client.get(path).get_data(as_text=True)
        assert "<img src=x" not in html
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; Title" in html
        assert "<b>s</b>" not in html


def test_the_start_page_lists_the_articles_for_each_session_type(
    demo: Flask, login_as: Callable[[str], FlaskClient]
) -> None:
    html = login_as("anonymous").get("/").get_data(as_text=True)
    rows = re.findall(
        r'<dt class="govuk-summary-list__key">([^<]+)</dt>(.*?)</dd>', html, flags=re.DOTALL
    )
    assert len(rows) == 4
    with demo.app_context():
        expected = queries.articles_for_session_types(
            [
                "first-acupuncture-session",
                "follow-up-acupuncture",
                "cupping-and-moxibustion",
                "community-acupuncture",
            ]
        )
        expected_titles = {
            slug: [(a.title, f"/articles/{a.slug}") for a in articles]
            for slug, articles in expected.items()
        }
    names = {
        "First acupuncture session": "first-acupuncture-session",
        "Follow-up acupuncture": "follow-up-acupuncture",
        "Cupping and moxibustion": "cupping-and-moxibustion",
        "Community acupuncture": "community-acupuncture",
    }
    for name, cell in rows:
        links = [(text, href) for href, text in re.findall(r'href="([^"]+)">([^<]+)</a>', cell)]
        assert links == expected_titles[names[name]], name
        assert links  # every demo session type has at least one article
    cupping = dict(rows)["Cupping and moxibustion"]
    assert "/articles/cupping-and-moxibustion-explained" in cupping


def test_the_list_and_article_pages_do_not_query_per_article(demo: Flask) -> None:
    client = demo.test_client()
    client.get("/articles/")  # warm up
    with count_queries(demo) as few:
        client.get("/articles/")
    with demo.app_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@meridian.example"))
        for number in range(15):
            data = validation.check_input(
                title=f"Extra article {number}", summary="S", body="B", tags=[f"extra-{number}"]
            )
            article = editing.create_article(data, slug=None, actor=admin, now=NOW)
            editing.publish_article(article, actor=admin, now=NOW)
        db.session.commit()
    with count_queries(demo) as many:
        assert client.get("/articles/").get_data(as_text=True).count("<h3") == 20
    assert len(many) == len(few)
    assert len(few) <= 8
    with count_queries(demo) as page:
        client.get(f"/articles/{DEMO_SLUG}")
    assert len(page) <= 10
