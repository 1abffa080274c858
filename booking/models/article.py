"""Educational articles, their tags, and the cached sanitised HTML of each revision."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models.base import Base
from booking.models.types import str_enum
from booking.models.user import User


class ArticleStatus(enum.StrEnum):
    draft = "draft"
    published = "published"


article_tag = Table(
    "article_tag",
    Base.metadata,
    Column("article_id", ForeignKey("article.id", ondelete="CASCADE"), primary_key=True),
    # Indexed: related articles and session-type links look articles up by tag.
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Base):
    """A condition (`low-back-pain`) or a session type's slug (`follow-up-acupuncture`)."""

    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Article(Base):
    """Markdown body; `body_html` caches the sanitised rendering of `rendered_revision`."""

    __tablename__ = "article"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ArticleStatus] = mapped_column(
        str_enum(ArticleStatus, name="article_status"), default=ArticleStatus.draft, index=True
    )
    # [{"title": ..., "url": ...}], each url http(s); checked by the service on every write.
    references: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    revision: Mapped[int] = mapped_column(default=1)
    body_html: Mapped[str] = mapped_column(Text, default="")
    rendered_revision: Mapped[int] = mapped_column(default=0)

    tags: Mapped[list[Tag]] = relationship(secondary=article_tag, order_by=Tag.name)
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.published
