"""Writing articles: drafts, edits and publishing, with tags made on first use."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from booking.domain.errors import InvalidInput, NotAllowed
from booking.extensions import db
from booking.models import Article, ArticleStatus, SessionType, Tag
from booking.services.articles.permissions import can_edit, can_preview, can_publish
from booking.services.articles.rendering import render_markdown
from booking.services.articles.validation import ArticleInput, check_slug, slug_from_title


def _tag_name(slug: str) -> str:
    session_type_name = db.session.scalar(select(SessionType.name).where(SessionType.slug == slug))
    if session_type_name:
        return session_type_name
    return slug.replace("-", " ").capitalize()


def _tags(slugs: Sequence[str]) -> list[Tag]:
    existing = {tag.slug: tag for tag in db.session.scalars(select(Tag).where(Tag.slug.in_(slugs)))}
    tags = []
    for slug in slugs:
        tag = existing.get(slug)
        if tag is None:
            tag = Tag(slug=slug, name=_tag_name(slug))
            db.session.add(tag)
        tags.append(tag)
    return tags


def _content(article: Article) -> tuple[Any, ...]:
    return (
        article.title,
        article.summary,
        article.body,
        tuple(sorted(tag.slug for tag in article.tags)),
        tuple((r["title"], r["url"]) for r in article.references or []),
    )


def _new_content(data: ArticleInput) -> tuple[Any, ...]:
    return (
        data.title,
        data.summary,
        data.body,
        tuple(sorted(data.tags)),
        tuple((r.title, r.url) for r in data.references),
    )


def apply_input(article: Article, data: ArticleInput, *, now: datetime) -> bool:
    """Write the content; bump the revision and re-render only if it changed."""
    is_new = article.id is None  # read before any query autoflushes a just-added row
    if not is_new and _content(article) == _new_content(data):
        return False
    article.title = data.title
    article.summary = data.summary
    article.body = data.body
    article.tags = _tags(data.tags)
    article.references = [{"title": r.title, "url": r.url} for r in data.references]
    article.revision = 1 if is_new else article.revision + 1
    article.body_html = render_markdown(data.body)
    article.rendered_revision = article.revision
    article.updated_at = now
    return True


def _slug_taken(slug: str) -> bool:
    return db.session.scalar(select(Article.id).where(Article.slug == slug)) is not None


def create_article(data: ArticleInput, *, slug: str | None, actor: Any, now: datetime) -> Article:
    """A new draft written by `actor` (a practitioner or an admin).

    Raises NotAllowed for other roles and InvalidInput (field `slug`) for a taken or
    unusable web address; a blank slug is made from the title.
    """
    if not can_preview(actor):
        raise NotAllowed("Only practitioners and admins can write articles")
    slug = check_slug(slug or slug_from_title(data.title))
    if _slug_taken(slug):
        raise InvalidInput("An article already uses that web address", field="slug")
    article = Article(
        slug=slug,
        status=ArticleStatus.draft,
        author_id=actor.id,
        created_at=now,
        references=[],
    )
    apply_input(article, data, now=now)
    db.session.add(article)
    db.session.flush()
    return article


def update_article(article: Article, data: ArticleInput, *, actor: Any, now: datetime) -> bool:
    """Save new content; True if anything changed (which bumps the revision).

    Raises NotAllowed unless the actor is an admin or the practitioner who wrote the draft.
    """
    if not can_edit(article, actor):
        raise NotAllowed("Only an admin, or the author of a draft, can edit this article")
    changed = apply_input(article, data, now=now)
    db.session.flush()
    return changed


def publish_article(article: Article, *, actor: Any, now: datetime) -> bool:
    """Publish a draft, recording the reviewer and review date; False if already published.

    Raises NotAllowed unless the actor is an admin or a reviewing practitioner.
    """
    if not can_publish(actor):
        raise NotAllowed("Only an admin or an article reviewer can publish articles")
    if article.is_published:
        return False
    article.status = ArticleStatus.published
    article.reviewer_id = actor.id
    article.reviewed_at = now
    article.published_at = article.published_at or now
    article.updated_at = now
    db.session.flush()
    return True
