"""Published questionnaire versions: the newest one and a new one (the migration publishes v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from booking.domain.errors import NotFound
from booking.extensions import db
from booking.models import QuestionnaireVersion

INTAKE_KEY = "first_visit_intake"


def latest_version(key: str = INTAKE_KEY) -> QuestionnaireVersion:
    """The newest published version of a questionnaire.

    Raises NotFound when none is published (the intake migration publishes version 1).
    """
    version = db.session.scalar(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.key == key)
        .order_by(QuestionnaireVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFound("There are no health questions to answer.")
    return version


def publish_version(key: str, definition: dict[str, Any], *, now: datetime) -> QuestionnaireVersion:
    """Publish a new version of a questionnaire; earlier versions and answers stay as they are."""
    current = db.session.scalar(
        select(QuestionnaireVersion.version)
        .where(QuestionnaireVersion.key == key)
        .order_by(QuestionnaireVersion.version.desc())
        .limit(1)
    )
    version = QuestionnaireVersion(
        key=key, version=(current or 0) + 1, definition=definition, published_at=now
    )
    db.session.add(version)
    db.session.flush()
    return version
