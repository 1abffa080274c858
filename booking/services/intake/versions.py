"""Published questionnaire versions: the newest one, a new one, and version 1 restored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from booking.domain.errors import NotFound
from booking.domain.intake.questionnaire_v1 import CONSENT_TEXTS_V1, FIRST_VISIT_INTAKE_V1
from booking.extensions import db
from booking.models import ConsentText, Modality, QuestionnaireVersion

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


# The intake migration's publication date of version 1.
V1_PUBLISHED_AT = datetime(2026, 11, 25, tzinfo=UTC)


def publish_v1_if_missing() -> None:
    """Version 1 of the intake and consent texts, as the intake migration publishes them.

    Every migrated database has them; this restores them in one whose tables were emptied
    (by hand, or by the PostgreSQL test harness's TRUNCATE).
    """
    key = FIRST_VISIT_INTAKE_V1["key"]
    published = select(QuestionnaireVersion.id).where(QuestionnaireVersion.key == key)
    if db.session.scalar(published) is None:
        db.session.add(
            QuestionnaireVersion(
                key=key,
                version=FIRST_VISIT_INTAKE_V1["version"],
                definition=FIRST_VISIT_INTAKE_V1,
                published_at=V1_PUBLISHED_AT,
            )
        )
    for name, text in CONSENT_TEXTS_V1.items():
        modality = Modality(name)
        text_id = db.session.scalar(select(ConsentText.id).where(ConsentText.modality == modality))
        if text_id is None:
            db.session.add(
                ConsentText(
                    modality=modality,
                    version=1,
                    title=text["title"],
                    body=text["body"],
                    published_at=V1_PUBLISHED_AT,
                )
            )
    db.session.flush()
