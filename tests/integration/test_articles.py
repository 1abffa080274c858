"""Article service: drafts, permissions, publishing, revisions and the HTML cache, lookups."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from booking.articles import views
from booking.domain.errors import InvalidInput, NotAllowed, NotFound
from booking.extensions import db
from booking.models import Article, ArticleStatus, Practitioner, User
from booking.services.articles import editing, queries, rendering, validation
from tests.conftest import DEMO_EMAILS

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
SESSION_TYPES = (
    "first-acupuncture-session",
    "follow-up-acupuncture",
    "cupping-and-moxibustion",
    "community-acupuncture",
)
DEMO_SLUGS = {
    "acupuncture-and-chronic-low-back-pain-what-the-evidence-says",
    "cupping-and-moxibustion-explained",
    "needling-safety-and-common-side-effects",
    "preparing-for-and-after-your-session",
    "what-to-expect-at-your-first-session",
}


@pytest.fixture
def ctx(demo: Flask) -> Iterator[Flask]:
    with demo.app_context():
        yield demo


def user(role_or_email: str) -> User:
    email = DEMO_EMAILS.get(role_or_email, role_or_email)
    return db.session.scalar(select(User).where(User.email == email))


def draft(
    author: User, *, title: str = "Sleep and acupuncture", tags: tuple[str, ...] = ()
) -> Article:
    data = validation.check_input(
        title=title, summary="What we know.", body="## Sleep\n\nResults vary.", tags=tags
    )
    return editing.create_article(data, slug=None, actor=author, now=NOW)


def test_seed_demo_publishes_the_five_demo_articles_once(ctx: Flask) -> None:
    from booking.demo.clinic import seed_demo_clinic
    from booking.security import password_cost

    articles = db.session.scalars(select(Article)).all()
    assert {a.slug for a in articles} == DEMO_SLUGS
    assert all(a.status == ArticleStatus.published and a.revision == 1 for a in articles)
    assert all(a.references and a.tags and a.rendered_revision == 1 for a in articles)
    seed_demo_clinic(cost=password_cost())  # idempotent: no new rows, no new revisions
    again = db.session.scalars(select(Article)).all()
    assert len(again) == 5
    assert {a.revision for a in again} == {1}


def test_a_new_article_is_a_draft_by_its_author_with_a_slug_from_the_title(ctx: Flask) -> None:
    author = user("practitioner")
    article = draft(author, title="Sleep & acupuncture: a guide?")
    assert article.slug == "sleep-acupuncture-a-guide"
    assert article.status == ArticleStatus.draft
    assert article.author_id == author.id
    assert article.revision == article.rendered_revision == 1
    assert '<h2 class="govuk-heading-m">Sleep</h2>' in article.body_html


@pytest.mark.parametrize("role", ["patient", "receptionist"])
def test_only_practitioners_and_admins_write_articles(ctx: Flask, role: str) -> None:
    with pytest.raises(NotAllowed):
        draft(user(role))


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("what-to-expect-at-your-first-session", "already uses that web address"),  # taken
        ("Upper-Case", "lower-case letters"),  # not a slug
        ("manage", "cannot be"),  # reserved: /articles/manage is a page
        ("a" * 101, "100 characters or fewer"),  # too long
    ],
)
def test_a_bad_slug_is_refused(ctx: Flask, slug: str, message: str) -> None:
    data = validation.check_input(title="T", summary="S", body="B")
    with pytest.raises(InvalidInput, match=message) as caught:
        editing.create_article(data, slug=slug, actor=user("admin"), now=NOW)
    assert caught.value.field == "slug"


def test_drafts_are_found_only_by_practitioners_and_admins(ctx: Flask) -> None:
    article = draft(user("practitioner"))
    db.session.commit()
    for role in ("practitioner", "admin"):
        assert queries.get_article(article.slug, actor=user(role)) is not None
    for role in ("patient", "receptionist"):
        with pytest.raises(NotFound):
            queries.get_article(article.slug, actor=user(role))
    with pytest.raises(NotFound):
        queries.get_article(article.slug, actor=None)


def test_practitioners_edit_only_their_own_drafts(ctx: Flask) -> None:
    mine = draft(user("practitioner"))
    theirs = draft(user("tom.okafor@meridian.example"), title="Someone else's draft")
    published = db.session.scalar(select(Article).where(Article.status == "published"))
    data = validation.check_input(title="New title", summary="S", body="B")
    assert editing.update_article(mine, data, actor=user("practitioner"), now=NOW)
    for article in (theirs, published):
        with pytest.raises(NotAllowed):
            editing.update_article(article, data, actor=user("practitioner"), now=NOW)
    # an admin edits anything
    assert editing.update_article(published, data, actor=user("admin"), now=NOW)


def test_only_admins_and_reviewers_publish_and_the_review_is_recorded(ctx: Flask) -> None:
    article = draft(user("tom.okafor@meridian.example"))
    with pytest.raises(NotAllowed):  # Tom is not a reviewer, even of his own draft
        editing.publish_article(article, actor=user("tom.okafor@meridian.example"), now=NOW)
    with pytest.raises(NotAllowed):
        editing.publish_article(article, actor=user("receptionist"), now=NOW)
    reviewer = user("practitioner")
    assert db.session.scalar(
        select(Practitioner.can_review_articles).where(Practitioner.user_id == reviewer.id)
    )
    assert editing.publish_article(article, actor=reviewer, now=NOW)
    assert article.status == ArticleStatus.published
    assert article.reviewer_id == reviewer.id
    assert article.reviewed_at == article.published_at == NOW
    later = NOW + timedelta(days=1)
    assert not editing.publish_article(article, actor=user("admin"), now=later)  # no-op
    assert article.reviewed_at == NOW


def test_saving_the_same_content_keeps_the_revision_and_a_change_re_renders(ctx: Flask) -> None:
    author = user("practitioner")
    article = draft(author, tags=("sleep",))
    same = validation.check_input(
        title="Sleep and acupuncture",
        summary="What we know.",
        body="## Sleep\n\nResults vary.",
        tags=["Sleep"],
    )
    assert not editing.update_article(article, same, actor=author, now=NOW)
    assert article.revision == 1
    changed = validation.check_input(title="Sleep", summary="S", body="## Rest\n\nText.")
    assert editing.update_article(article, changed, actor=author, now=NOW)
    assert article.revision == article.rendered_revision == 2
    assert ">Rest</h2>" in article.body_html


def test_a_stale_cache_is_rendered_again_and_stored(ctx: Flask) -> None:
    article = draft(user("admin"))
    db.session.commit()
    db.session.execute(
        update(Article)
        .where(Article.id == article.id)
        .values(body="## Fresh\n", body_html="<p>old</p>", revision=7)
    )
    db.session.commit()
    db.session.expire_all()
    article = db.session.get(Article, article.id)
    assert ">Fresh</h2>" in rendering.article_html(article)
    # The render is stored by its own short transaction: end ours so the next read sees it.
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Article, article.id)
    assert stored.rendered_revision == 7
    assert ">Fresh</h2>" in stored.body_html


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": " "}, "title", "Enter title"),
        ({"title": "x" * 201}, "title", "200 characters or fewer"),
        ({"summary": ""}, "summary", "Enter summary"),
        ({"body": "  "}, "body", "Enter the body"),
        ({"body": "x" * 50_001}, "body", "50,000 characters or fewer"),
        ({"title": "bell\x07"}, "title", "control characters"),
        ({"tags": ["low back pain!"]}, "tags", "letters, numbers"),
        ({"references": [{"title": "x", "url": "javascript:alert(1)"}]}, "references", "https"),
        ({"references": [{"title": "x", "url": "data:text/html,hi"}]}, "references", "https"),
        ({"references": [{"title": "", "url": "https://a.example"}]}, "references", "title"),
    ],
)
def test_check_input_names_the_field_in_error(
    fields: dict[str, object], field: str, message: str
) -> None:
    raw: dict[str, object] = {"title": "T", "summary": "S", "body": "B", **fields}
    with pytest.raises(InvalidInput, match=message) as caught:
        validation.check_input(**raw)
    assert caught.value.field == field


def test_tags_are_normalised_and_named(ctx: Flask) -> None:
    article = draft(user("admin"), tags=("Low back pain", "follow-up-acupuncture", "low-back-pain"))
    assert sorted((t.slug, t.name) for t in article.tags) == [
        ("follow-up-acupuncture", "Follow-up acupuncture"),  # a session type's own name
        ("low-back-pain", "Low back pain"),
    ]


def test_search_is_case_insensitive_bounded_and_treats_wildcards_as_text(ctx: Flask) -> None:
    titles = {a.title for a in queries.published_articles(query="CUPPING")}
    assert "Cupping and moxibustion explained" in titles
    body_only = queries.published_articles(query="TONGUE")  # a word in a body only
    assert [a.slug for a in body_only] == ["what-to-expect-at-your-first-session"]
    assert queries.published_articles(query="%") == []
    assert queries.published_articles(query="_") == []
    assert queries.published_articles(query="x" * 10_000) == []


def test_search_and_lists_show_published_articles_only(ctx: Flask) -> None:
    draft(user("admin"), title="Cupping draft", tags=("cupping-and-moxibustion",))
    assert "cupping-draft" not in {a.slug for a in queries.published_articles(query="cupping")}
    assert "cupping-draft" not in {
        a.slug for a in queries.published_articles(tag="cupping-and-moxibustion")
    }
    assert "cupping-draft" not in {
        a.slug for a in queries.articles_for_session_type("cupping-and-moxibustion")
    }


def test_articles_for_each_session_type_most_specific_first(ctx: Flask) -> None:
    by_type = queries.articles_for_session_types(SESSION_TYPES)
    assert set(by_type) == set(SESSION_TYPES)
    assert all(1 <= len(articles) <= 3 for articles in by_type.values())
    assert by_type["first-acupuncture-session"][0].slug == "what-to-expect-at-your-first-session"
    assert by_type["cupping-and-moxibustion"][0].slug == "cupping-and-moxibustion-explained"
    one = queries.articles_for_session_type("cupping-and-moxibustion", limit=1)
    assert [a.slug for a in one] == ["cupping-and-moxibustion-explained"]
    assert queries.articles_for_session_type("no-such-type") == []


def test_related_articles_share_a_tag_and_exclude_the_article(ctx: Flask) -> None:
    article = queries.get_article("cupping-and-moxibustion-explained", actor=None)
    related = queries.related_articles(article)
    tags = {t.slug for t in article.tags}
    assert related
    assert article not in related
    assert all(tags & {t.slug for t in other.tags} for other in related)
    lonely = draft(user("admin"), title="No tags")
    assert queries.related_articles(lonely) == []


def test_session_types_for_an_article_and_the_booking_link(ctx: Flask) -> None:
    article = queries.get_article("cupping-and-moxibustion-explained", actor=None)
    assert [s.slug for s in queries.session_types_for(article)] == ["cupping-and-moxibustion"]
    with ctx.test_request_context():
        assert views.book_url("cupping-and-moxibustion") == "/?type=cupping-and-moxibustion"
