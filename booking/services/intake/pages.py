"""An intake's pages in order: its questionnaire's pages, then one consent page per modality."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from booking.domain.errors import NotFound
from booking.domain.intake import rules
from booking.models import IntakeResponse, Modality
from booking.services.intake import consent as consent_service

CONSENT_PAGE_PREFIX = "consent-"


CHECK_PAGE = "check"


def consent_modalities(intake: IntakeResponse) -> list[Modality]:
    appointment = intake.appointment
    return consent_service.modalities_of(appointment.session_type.modalities if appointment else "")


def consent_page_key(modality: Modality) -> str:
    return f"{CONSENT_PAGE_PREFIX}{modality.value.replace('_', '-')}"


def consent_answer_key(modality: Modality) -> str:
    return f"consent_{modality.value}"


def modality_of_page(page_key: str) -> Modality | None:
    if not page_key.startswith(CONSENT_PAGE_PREFIX):
        return None
    name = page_key.removeprefix(CONSENT_PAGE_PREFIX).replace("-", "_")
    return Modality(name) if name in Modality.__members__ else None


def flow(intake: IntakeResponse) -> list[str]:
    """Every page of this intake in order: its questionnaire's pages, then one per consent."""
    definition = intake.questionnaire.definition
    return [*rules.page_keys(definition), *map(consent_page_key, consent_modalities(intake))]


def resume_page(intake: IntakeResponse) -> str:
    """The first page not yet answered, or the check page when all are."""
    return rules.first_unanswered(flow(intake), intake.completed_pages or []) or CHECK_PAGE


def next_page(intake: IntakeResponse, page_key: str) -> str:
    """The page after `page_key`: the first unanswered one after it, else check answers."""
    keys = flow(intake)
    later = keys[keys.index(page_key) + 1 :] if page_key in keys else keys
    done = set(intake.completed_pages or [])
    return next((key for key in later if key not in done), None) or resume_page(intake)


def previous_page(intake: IntakeResponse, page_key: str) -> str | None:
    keys = flow(intake)
    if page_key == CHECK_PAGE:
        return keys[-1] if keys else None
    index = keys.index(page_key) if page_key in keys else 0
    return keys[index - 1] if index > 0 else None


def page_questions(intake: IntakeResponse, page_key: str) -> Mapping[str, Any]:
    """The definition of one page of the intake (a consent page is built from its text).

    Raises NotFound for a page this intake does not have.
    """
    modality = modality_of_page(page_key)
    if modality is not None and modality in consent_modalities(intake):
        text = consent_service.current_text(modality)
        label = consent_service.MODALITY_LABELS[modality]
        return {
            "key": page_key,
            "title": f"Consent to {label.lower()}",
            "consent_text": text,
            "modality": modality,
            "questions": [
                {
                    "key": consent_answer_key(modality),
                    "type": "radios",
                    "label": f"Do you agree to {label.lower()}?",
                    "options": [["yes", "Yes, I agree"], ["no", "No"]],
                    "inline": True,
                    "required": True,
                    "error": f"Select yes if you agree to {label.lower()}",
                }
            ],
        }
    page = rules.find_page(intake.questionnaire.definition, page_key)
    if page is None:
        raise NotFound("That page of the health questions does not exist.")
    return page


def missing_pages(intake: IntakeResponse) -> list[str]:
    done = set(intake.completed_pages or [])
    return [key for key in flow(intake) if key not in done]
