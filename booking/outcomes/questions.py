"""The wording of each score question (our own words for pain 0-10 and PEG-3's three items;
PEG-3: Krebs et al., 2009). Numbers only: the pages never say what a score means for you."""

from __future__ import annotations

from dataclasses import dataclass

from booking.models import OutcomeMeasure


@dataclass(frozen=True)
class Question:
    step: str
    title: str  # the page heading, a question
    hint: str
    short: str  # the check-answers row


PAIN_TODAY = Question(
    "pain",
    "How much pain do you have today?",
    "Choose a number from 0 (no pain) to 10 (the worst pain you can imagine).",
    "Pain today",
)
PEG = (
    Question(
        "pain",
        "Over the last 7 days, what was your pain like on average?",
        "Choose a number from 0 (no pain) to 10 (the worst pain you can imagine).",
        "Average pain, last 7 days",
    ),
    Question(
        "enjoyment",
        "Over the last 7 days, how much did pain get in the way of enjoying life?",
        "Choose a number from 0 (not at all) to 10 (it stopped me enjoying anything).",
        "Pain and enjoying life",
    ),
    Question(
        "activity",
        "Over the last 7 days, how much did pain get in the way of your usual activities?",
        "Choose a number from 0 (not at all) to 10 (I could not do any of them).",
        "Pain and usual activities",
    ),
)


def questions(measure: OutcomeMeasure) -> tuple[Question, ...]:
    return PEG if measure == OutcomeMeasure.peg3 else (PAIN_TODAY,)
