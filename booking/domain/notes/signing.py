"""What a clinical note must hold before it can be signed (domain.md §1, §4).

Pure: the service passes the note's values, the patient's current consents and flags. Each
problem names the field to fix and says what to do, so the form can show it in its summary.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

MODALITIES: dict[str, str] = {
    "needling": "Needling",
    "electro_acupuncture": "Electro-acupuncture",
    "cupping": "Cupping",
    "moxibustion": "Moxibustion",
    "gua_sha": "Gua sha",
}
NEEDLE_MODALITIES = frozenset({"needling", "electro_acupuncture"})
ADVERSE_EVENTS: dict[str, str] = {
    "bruising": "Bruising",
    "bleeding": "Bleeding",
    "soreness": "Soreness",
    "fainting": "Fainting or near-fainting",
    "forgotten_needle": "Forgotten needle",
    "burn": "Burn",
    "other": "Other",
}
FOLLOW_UP_EVENTS = frozenset({"fainting", "forgotten_needle"})  # reception calls the patient
NO_ELECTRO = "no_electro"


@dataclass(frozen=True)
class SigningFacts:
    """The values the signing rules read."""

    modalities: Collection[str]
    needles_in: int | None
    needles_out: int | None
    consented: Collection[str]  # modalities with a current consent
    flags: Collection[str]  # the patient's uncleared flag codes
    electro_hz: int | None = None
    electro_minutes: int | None = None


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


def signing_problems(facts: SigningFacts) -> list[Problem]:
    """Everything that stops the note being signed, in the form's order; empty = may sign."""
    problems: list[Problem] = []
    used = [code for code in MODALITIES if code in facts.modalities]
    for code in used:
        if code not in facts.consented:
            problems.append(
                Problem(
                    "modalities",
                    f"{MODALITIES[code]} is recorded but the patient has no current consent "
                    f"for it: record their consent on the health record, or remove "
                    f"{MODALITIES[code].lower()} from the note.",
                )
            )
    if "electro_acupuncture" in used:
        if NO_ELECTRO in facts.flags:
            problems.append(
                Problem(
                    "modalities",
                    "Electro-acupuncture is recorded but the patient has the no_electro flag "
                    "(electrical implant): remove electro-acupuncture from the note.",
                )
            )
        if facts.electro_hz is None or facts.electro_minutes is None:
            problems.append(
                Problem(
                    "electro_hz",
                    "Enter the electro-acupuncture frequency and minutes.",
                )
            )
    if NEEDLE_MODALITIES & set(used) or facts.needles_in or facts.needles_out:
        if facts.needles_in is None or facts.needles_out is None:
            problems.append(
                Problem("needles_in", "Enter how many needles were inserted and removed.")
            )
        elif facts.needles_in != facts.needles_out:
            problems.append(
                Problem(
                    "needles_out",
                    f"Needles removed ({facts.needles_out}) does not match needles inserted "
                    f"({facts.needles_in}): count the needles again and correct the numbers.",
                )
            )
    return problems


def needs_follow_up(adverse_events: Collection[str]) -> bool:
    """Fainting or a forgotten needle puts the patient on reception's follow-up list."""
    return bool(FOLLOW_UP_EVENTS & set(adverse_events))
