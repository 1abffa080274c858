"""Answers as words, always read against the questionnaire version they were given to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from booking.domain.intake import rules
from booking.models import IntakeResponse
from booking.services.intake import consent as consent_service
from booking.services.intake import pages

NOT_ANSWERED = "Not answered"


@dataclass
class Row:
    key: str
    label: str
    value: str
    red_flag: bool = False


@dataclass
class Section:
    page_key: str
    title: str
    rows: list[Row] = field(default_factory=list)


def answer_text(question: Mapping[str, Any], value: Any) -> str:
    if value in (None, "", []):
        return NOT_ANSWERED
    if question["type"] == "scale":
        return f"{value} out of 10"
    labels: dict[Any, Any] = dict(tuple(option) for option in question.get("options", []))
    if isinstance(value, list):
        return ", ".join(str(labels.get(item, item)) for item in value)
    return labels.get(value, str(value))


def sections(intake: IntakeResponse) -> list[Section]:
    """One section per page of the intake's own version, then its consent pages."""
    definition = intake.questionnaire.definition
    answers = intake.answers or {}
    found = []
    for page in rules.pages(definition):
        rows = [
            Row(
                question["key"],
                question["label"],
                answer_text(question, answers.get(question["key"])),
                bool(question.get("red_flag")) and answers.get(question["key"]) == "yes",
            )
            for question in page["questions"]
        ]
        found.append(Section(page["key"], page["title"], rows))
    for modality in pages.consent_modalities(intake):
        label = consent_service.MODALITY_LABELS[modality]
        value = answers.get(pages.consent_answer_key(modality))
        text = {"yes": "Yes, I agree", "no": "No"}.get(value or "", NOT_ANSWERED)
        found.append(
            Section(
                pages.consent_page_key(modality),
                f"Consent to {label.lower()}",
                [
                    Row(
                        pages.consent_answer_key(modality),
                        f"Do you agree to {label.lower()}?",
                        text,
                    )
                ],
            )
        )
    return found


def peg3(intake: IntakeResponse) -> float | None:
    return rules.peg3_score(intake.answers or {})
