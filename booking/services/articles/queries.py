"""Reading articles and tags: one article, searches, and articles for session types."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, selectinload

from booking.domain.errors import NotAllowed, NotFound
from booking.extensions import db
from booking.models import Article, ArticleStatus, SessionType, Tag
from booking.models.article import article_tag
from booking.services.articles.permissions import can_edit, can_preview

QUERY_MAX = 100


SEARCH_LIMIT = 50


def _loaded() -> Any:
    return select(Article).options(
        selectinload(Article.tags),
        selectinload(Article.author),
        selectinload(Article.reviewer),
    )


def get_article(slug: str, *, actor: Any) -> Article:
    """The article at `slug` as `actor` may see it.

    Raises NotFound for a missing slug, and for a draft unless the actor can preview drafts.
    """
    article = db.session.scalar(_loaded().where(Article.slug == slug))
    if article is None or (not article.is_published and not can_preview(actor)):
        raise NotFound("Page not found")
    return article


def get_editable_article(slug: str, *, actor: Any) -> Article:
    """The article at `slug` if `actor` may edit it.

    Raises NotFound for a missing slug and NotAllowed when the actor may not edit it.
    """
    article = get_article(slug, actor=actor)
    if not can_edit(article, actor):
        raise NotAllowed("Only an admin, or the author of a draft, can edit this article")
    return article


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def published_articles(
    *, tag: str | None = None, query: str | None = None, limit: int = SEARCH_LIMIT
) -> list[Article]:
    """Published articles by title, filtered by tag slug and a case-insensitive search.

    The search looks in title, summary and body; it is cut to QUERY_MAX characters and
    returns at most `limit` rows.
    """
    statement = (
        select(Article)
        .options(selectinload(Article.tags))
        .where(Article.status == ArticleStatus.published)
        .order_by(Article.title, Article.id)
        .limit(min(limit, SEARCH_LIMIT))
    )
    if tag:
        statement = statement.where(Article.tags.any(Tag.slug == tag))
    if query and query.strip():
        pattern = f"%{_escape_like(query.strip()[:QUERY_MAX].lower())}%"
        statement = statement.where(
            or_(
                func.lower(Article.title).like(pattern, escape="\\"),
                func.lower(Article.summary).like(pattern, escape="\\"),
                func.lower(Article.body).like(pattern, escape="\\"),
            )
        )
    return list(db.session.scalars(statement))


def all_articles() -> list[Article]:
    """Every article, drafts first, for the staff list."""
    return list(
        db.session.scalars(
            select(Article)
            .options(selectinload(Article.author))
            .order_by(Article.status, Article.title, Article.id)
        )
    )


def published_tags() -> list[Tag]:
    """Tags used by at least one published article, by name."""
    return list(
        db.session.scalars(
            select(Tag).where(Tag.id.in_(_published_tag_ids())).order_by(Tag.name, Tag.id)
        )
    )


def _published_tag_ids() -> Any:
    return (
        select(article_tag.c.tag_id)
        .join(Article, Article.id == article_tag.c.article_id)
        .where(Article.status == ArticleStatus.published)
    )


def get_tag(slug: str) -> Tag | None:
    return db.session.scalar(select(Tag).where(Tag.slug == slug))


def articles_for_session_types(slugs: Iterable[str], limit: int = 3) -> dict[str, list[Article]]:
    """Up to `limit` published articles tagged with each session-type slug, in one query.

    Articles tagged with fewer session types come first: they are the most specific.
    """
    wanted = list(dict.fromkeys(slugs))
    result: dict[str, list[Article]] = {slug: [] for slug in wanted}
    if not wanted:
        return result
    other_link = article_tag.alias("other_link")
    other_tag = aliased(Tag)
    session_type_tags = (
        select(func.count())
        .select_from(other_link.join(other_tag, other_tag.id == other_link.c.tag_id))
        .where(
            other_link.c.article_id == Article.id,
            other_tag.slug.in_(select(SessionType.slug)),
        )
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Tag.slug, Article)
        .join(article_tag, article_tag.c.tag_id == Tag.id)
        .join(Article, Article.id == article_tag.c.article_id)
        .where(Tag.slug.in_(wanted), Article.status == ArticleStatus.published)
        .order_by(session_type_tags, Article.title, Article.id)
    )
    for slug, article in rows:
        if len(result[slug]) < limit:
            result[slug].append(article)
    return result


def articles_for_session_type(slug: str, limit: int = 3) -> list[Article]:
    """Up to `limit` published articles tagged with a session type's slug, by title."""
    return articles_for_session_types([slug], limit)[slug]


def related_articles(article: Article, limit: int = 3) -> list[Article]:
    """Other published articles sharing a tag, most shared tags first."""
    tag_ids = [tag.id for tag in article.tags]
    if not tag_ids:
        return []
    shared = func.count(article_tag.c.tag_id)
    return list(
        db.session.scalars(
            select(Article)
            .join(article_tag, article_tag.c.article_id == Article.id)
            .where(
                article_tag.c.tag_id.in_(tag_ids),
                Article.id != article.id,
                Article.status == ArticleStatus.published,
            )
            .group_by(Article.id)
            .order_by(shared.desc(), Article.title, Article.id)
            .limit(limit)
        )
    )


def session_types_for(article: Article) -> list[SessionType]:
    """Active session types whose slug is one of the article's tags."""
    slugs = [tag.slug for tag in article.tags]
    if not slugs:
        return []
    return list(
        db.session.scalars(
            select(SessionType)
            .where(SessionType.slug.in_(slugs), SessionType.is_active.is_(True))
            .order_by(SessionType.sort_order, SessionType.id)
        )
    )
