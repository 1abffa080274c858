"""Who may preview, edit and publish articles."""

from __future__ import annotations

from typing import Any

from booking.models import Article, ArticleStatus, Role
from booking.services.clinic.practitioners import practitioner_of

STAFF_ARTICLE_ROLES = frozenset({Role.practitioner, Role.admin})


def _role(actor: Any) -> str | None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return str(actor.role)


def can_preview(actor: Any) -> bool:
    """Practitioners and admins can read drafts."""
    return _role(actor) in STAFF_ARTICLE_ROLES


def can_edit(article: Article, actor: Any) -> bool:
    """Admins edit any article; practitioners only their own drafts."""
    role = _role(actor)
    if role == Role.admin:
        return True
    return (
        role == Role.practitioner
        and article.status == ArticleStatus.draft
        and article.author_id == actor.id
    )


def can_publish(actor: Any) -> bool:
    """Admins, and practitioners marked as article reviewers."""
    role = _role(actor)
    if role == Role.admin:
        return True
    if role != Role.practitioner:
        return False
    practitioner = practitioner_of(actor)
    return practitioner is not None and practitioner.can_review_articles
