"""Pure intake rules: red flags, contraindication flags, resume and carry-over (domain.md §4).

Questionnaire definitions are plain dicts (pages → questions). A question may carry
`red_flag: true` (a "yes" is a red flag) and `flags: {answer value: flag code}`; this module
turns answers into flags, so nothing else ever decides a flag.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CONTRAINDICATION = "contraindication"
PRECAUTION = "precaution"
RED_FLAG = "red_flag"
SCALE_VALUES = tuple(str(n) for n in range(11))
# Answers that describe now, not last time: a returning patient answers them afresh.
NOT_CARRIED_OVER = frozenset({"pregnancy"})
URGENT_ADVICE = "Call 999 in an emergency. Otherwise contact your GP or call NHS 111 today."
# The red flags a first visit is asked about before booking (/book/safety, ux.md step 12):
# "Since your problem started, have you had:" then this list. A "yes" shows urgent advice.
BOOKING_RED_FLAGS = (
    "numbness around your bottom or genitals (saddle numbness)",
    "new problems passing urine or controlling your bowels",
    "weakness in your legs that is getting worse",
    "a fever",
    "weight loss you cannot explain",
    "cancer now or in the past",
    "a recent fall, accident or other serious injury",
)


@dataclass(frozen=True)
class FlagInfo:
    severity: str
    label: str
    advice: str


# domain.md §4: the contraindication table.
FLAG_CATALOGUE: Mapping[str, FlagInfo] = {
    "bleeding_risk": FlagInfo(
        PRECAUTION, "Bleeding risk", "Blood thinners or a bleeding disorder: press longer."
    ),
    "no_electro": FlagInfo(
        CONTRAINDICATION,
        "No electro-acupuncture",
        "Pacemaker or other electrical implant: do not use electro-acupuncture.",
    ),
    "pregnancy": FlagInfo(
        PRECAUTION, "Pregnancy", "Pregnant or might be: point cautions (e.g. SP6, LI4)."
    ),
    "faint_risk": FlagInfo(
        PRECAUTION, "Faint risk", "Needle anxiety or fainting: treat lying down."
    ),
    "skin_site": FlagInfo(
        PRECAUTION, "Skin problem at site", "Skin infection, wound or rash: avoid that area."
    ),
    "metal_allergy": FlagInfo(
        PRECAUTION, "Metal or adhesive allergy", "Metal or adhesive allergy: check needles, tape."
    ),
    "seizure_risk": FlagInfo(
        PRECAUTION, "Seizure risk", "Epilepsy or seizures: treat lying down, stay nearby."
    ),
}


@dataclass(frozen=True, order=True)
class DerivedFlag:
    code: str
    severity: str
    label: str
    advice: str
    question_key: str


def pages(definition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(definition.get("pages", []))


def page_keys(definition: Mapping[str, Any]) -> list[str]:
    return [page["key"] for page in pages(definition)]


def find_page(definition: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    return next((page for page in pages(definition) if page["key"] == key), None)


def questions(definition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [question for page in pages(definition) for question in page["questions"]]


def option_values(question: Mapping[str, Any]) -> tuple[str, ...]:
    if question["type"] == "scale":
        return SCALE_VALUES
    return tuple(value for value, _label in question.get("options", []))


def _selected(answer: Any) -> tuple[str, ...]:
    if answer is None:
        return ()
    if isinstance(answer, list | tuple):
        return tuple(str(item) for item in answer)
    return (str(answer),)


def is_valid_answer(question: Mapping[str, Any], answer: Any) -> bool:
    """Whether `answer` is a possible answer to `question` (an empty optional one counts)."""
    kind = question["type"]
    if answer is None or answer == "" or answer == []:
        return not question.get("required", False)
    if kind in ("text", "textarea"):
        return isinstance(answer, str) and len(answer) <= question.get("max_length", 1000)
    allowed = option_values(question)
    if kind == "checkboxes":
        chosen = _selected(answer)
        exclusive = question.get("exclusive")
        if exclusive in chosen and len(chosen) > 1:
            return False
        return isinstance(answer, list) and all(item in allowed for item in chosen)
    return isinstance(answer, str) and answer in allowed


def is_page_complete(page: Mapping[str, Any], answers: Mapping[str, Any]) -> bool:
    """Every question of the page has a possible answer (optional ones may be empty)."""
    return all(is_valid_answer(q, answers.get(q["key"])) for q in page["questions"])


def first_unanswered(keys: Sequence[str], completed: Iterable[str]) -> str | None:
    """The first page key not yet completed, or None when every page is done."""
    done = set(completed)
    return next((key for key in keys if key not in done), None)


def red_flag_answers(definition: Mapping[str, Any], answers: Mapping[str, Any]) -> list[str]:
    """Keys of red-flag questions answered "yes", in questionnaire order."""
    return [
        question["key"]
        for question in questions(definition)
        if question.get("red_flag") and answers.get(question["key"]) == "yes"
    ]


def derive_flags(
    definition: Mapping[str, Any], answers: Mapping[str, Any]
) -> tuple[DerivedFlag, ...]:
    """The flags these answers imply: red flags first, then by code; one per code.

    A question's `flags` map names the flag for an answer value (for checkboxes, any
    selected value); codes must be in FLAG_CATALOGUE, else KeyError (a broken definition).
    """
    found: dict[str, DerivedFlag] = {}
    for question in questions(definition):
        key = question["key"]
        answer = answers.get(key)
        if question.get("red_flag"):
            if answer == "yes":
                label = question.get("short", question["label"])
                found[key] = DerivedFlag(key, RED_FLAG, label, URGENT_ADVICE, key)
            continue
        for value in _selected(answer):
            code = question.get("flags", {}).get(value)
            if code is not None and code not in found:
                info = FLAG_CATALOGUE[code]
                found[code] = DerivedFlag(code, info.severity, info.label, info.advice, key)
    return tuple(sorted(found.values(), key=lambda flag: (flag.severity != RED_FLAG, flag.code)))


def peg3_score(answers: Mapping[str, Any]) -> float | None:
    """PEG-3 (Krebs et al., 2009): mean of average pain, enjoyment and activity, 0–10."""
    items = [answers.get(key) for key in ("pain_average", "peg_enjoyment", "peg_activity")]
    if any(item not in SCALE_VALUES for item in items):
        return None
    return round(sum(int(str(item)) for item in items) / 3, 1)


def carry_over(
    definition: Mapping[str, Any], previous: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """A returning patient's last answers that still fit `definition`, and the pages they complete.

    Red-flag and pregnancy answers describe the present, so they are left to answer again;
    answers to questions the definition no longer asks, or no longer allows, are dropped.
    """
    kept: dict[str, Any] = {}
    for question in questions(definition):
        key = question["key"]
        if question.get("red_flag") or key in NOT_CARRIED_OVER or key not in previous:
            continue
        if is_valid_answer(question, previous[key]):
            kept[key] = previous[key]
    done = [page["key"] for page in pages(definition) if is_page_complete(page, kept)]
    return kept, done
