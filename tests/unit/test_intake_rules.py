"""Pure intake rules (domain.md §4): every contraindication rule and red flag, both ways."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from booking.domain.intake import rules
from booking.domain.intake.questionnaire_v1 import CONSENT_TEXTS_V1, FIRST_VISIT_INTAKE_V1

V1 = FIRST_VISIT_INTAKE_V1
RED_FLAG_KEYS = [q["key"] for q in rules.questions(V1) if q.get("red_flag")]


def calm() -> dict[str, Any]:
    """Answers to every v1 question that imply no flag at all."""
    answers: dict[str, Any] = {}
    for question in rules.questions(V1):
        kind = question["type"]
        if kind == "checkboxes":
            values = rules.option_values(question)
            answers[question["key"]] = ["none"] if "none" in values else [values[0]]
        elif kind == "scale":
            answers[question["key"]] = "3"
        elif kind == "radios":
            answers[question["key"]] = "no"
        else:
            answers[question["key"]] = "Some text"
    answers["onset"] = "over_a_year"
    return answers


def codes(answers: dict[str, Any]) -> set[str]:
    return {flag.code for flag in rules.derive_flags(V1, answers)}


def test_calm_answers_raise_no_flag() -> None:
    assert codes(calm()) == set()


# (answers that trigger, the same question answered so that it does not, flag, severity)
CONTRAINDICATION_TABLE = [
    # anticoagulant or antiplatelet medicine → bleeding risk
    ({"anticoagulants": "yes"}, {"anticoagulants": "no"}, "bleeding_risk", "precaution"),
    # not sure about blood thinners counts as taking them until checked
    ({"anticoagulants": "not_sure"}, {"anticoagulants": "no"}, "bleeding_risk", "precaution"),
    # a bleeding disorder → bleeding risk
    ({"bleeding_disorder": "yes"}, {"bleeding_disorder": "no"}, "bleeding_risk", "precaution"),
    # pacemaker, ICD or other electrical implant → no electro-acupuncture
    ({"implants": "yes"}, {"implants": "no"}, "no_electro", "contraindication"),
    # pregnant → point cautions
    ({"pregnancy": "yes"}, {"pregnancy": "no"}, "pregnancy", "precaution"),
    # might be pregnant → point cautions too
    ({"pregnancy": "maybe"}, {"pregnancy": "no"}, "pregnancy", "precaution"),
    # needle anxiety or fainting → treat lying down
    ({"needle_fainting": "yes"}, {"needle_fainting": "no"}, "faint_risk", "precaution"),
    # skin infection at likely sites
    ({"skin_problem": "yes"}, {"skin_problem": "no"}, "skin_site", "precaution"),
    # metal allergy
    ({"allergies": ["metal"]}, {"allergies": ["latex"]}, "metal_allergy", "precaution"),
    # adhesive allergy counts with metal (tape and needles)
    ({"allergies": ["adhesive", "latex"]}, {"allergies": ["none"]}, "metal_allergy", "precaution"),
    # epilepsy → seizure risk
    (
        {"conditions": ["diabetes", "epilepsy"]},
        {"conditions": ["diabetes"]},
        "seizure_risk",
        "precaution",
    ),
]


@pytest.mark.parametrize(
    ("triggering", "not_triggering", "code", "severity"), CONTRAINDICATION_TABLE
)
def test_contraindication_rule_both_ways(
    triggering: dict[str, Any], not_triggering: dict[str, Any], code: str, severity: str
) -> None:
    flags = {flag.code: flag for flag in rules.derive_flags(V1, {**calm(), **triggering})}
    assert code in flags
    assert flags[code].severity == severity
    assert code not in codes({**calm(), **not_triggering})


def test_every_catalogue_flag_has_a_rule_test() -> None:
    assert {row[2] for row in CONTRAINDICATION_TABLE} == set(rules.FLAG_CATALOGUE)


def test_definition_only_names_catalogued_flags() -> None:
    for question in rules.questions(V1):
        assert set(question.get("flags", {}).values()) <= set(rules.FLAG_CATALOGUE)


def test_seven_red_flag_questions() -> None:
    assert RED_FLAG_KEYS == [
        "rf_saddle_numbness",
        "rf_bladder_bowel",
        "rf_leg_weakness",
        "rf_fever",
        "rf_weight_loss",
        "rf_cancer_history",
        "rf_recent_injury",
    ]


def test_the_booking_screen_lists_one_line_per_red_flag_question() -> None:
    """/book/safety asks about the same seven red flags as the intake (domain.md §4)."""
    assert len(rules.BOOKING_RED_FLAGS) == len(RED_FLAG_KEYS)
    assert "saddle numbness" in rules.BOOKING_RED_FLAGS[0]


@pytest.mark.parametrize("key", RED_FLAG_KEYS)
def test_red_flag_both_ways(key: str) -> None:
    raised = rules.derive_flags(V1, {**calm(), key: "yes"})
    assert [(f.code, f.severity) for f in raised] == [(key, rules.RED_FLAG)]
    assert raised[0].advice == rules.URGENT_ADVICE
    assert rules.red_flag_answers(V1, {**calm(), key: "yes"}) == [key]
    assert rules.red_flag_answers(V1, {**calm(), key: "no"}) == []
    assert codes({**calm(), key: "no"}) == set()


def test_red_flags_sort_first_and_codes_are_unique() -> None:
    answers = {**calm(), "rf_fever": "yes", "anticoagulants": "yes", "bleeding_disorder": "yes"}
    flags = rules.derive_flags(V1, answers)
    assert [f.code for f in flags] == ["rf_fever", "bleeding_risk"]


def test_urgent_advice_names_gp_111_and_999() -> None:
    assert "999" in rules.URGENT_ADVICE
    assert "NHS 111" in rules.URGENT_ADVICE
    assert "GP" in rules.URGENT_ADVICE


@pytest.mark.parametrize(
    ("keys", "done", "expected"),
    [
        (["a", "b", "c"], [], "a"),  # nothing answered: the first page
        (["a", "b", "c"], ["a", "b"], "c"),  # the next in order
        (["a", "b", "c"], ["a", "c"], "b"),  # a gap comes first
        (["a", "b", "c"], ["c", "b", "a"], None),  # all done
        (["a", "b"], ["x"], "a"),  # pages of another version do not count
    ],
)
def test_first_unanswered(keys: list[str], done: list[str], expected: str | None) -> None:
    assert rules.first_unanswered(keys, done) == expected


@pytest.mark.parametrize(
    ("items", "score"),
    [
        (("0", "0", "0"), 0.0),  # lowest
        (("10", "10", "10"), 10.0),  # highest
        (("5", "6", "8"), 6.3),  # mean of three, one decimal
        (("5", "6", None), None),  # incomplete
        (("5", "11", "2"), None),  # out of range
    ],
)
def test_peg3_score(items: tuple[Any, Any, Any], score: float | None) -> None:
    answers = dict(zip(("pain_average", "peg_enjoyment", "peg_activity"), items, strict=True))
    assert rules.peg3_score(answers) == score


@pytest.mark.parametrize(
    ("key", "answer", "ok"),
    [
        ("pain_now", "0", True),  # scale bottom
        ("pain_now", "10", True),  # scale top
        ("pain_now", "11", False),  # off the scale
        ("pain_now", "", False),  # required
        ("conditions", ["none"], True),  # exclusive alone
        ("conditions", ["none", "epilepsy"], False),  # exclusive with another
        ("conditions", ["unknown"], False),  # not an option
        ("gp_name", "", True),  # optional and empty
        ("gp_name", "x" * 101, False),  # too long
        ("onset", "yesterday", False),  # not an option
    ],
)
def test_is_valid_answer(key: str, answer: Any, ok: bool) -> None:
    question = next(q for q in rules.questions(V1) if q["key"] == key)
    assert rules.is_valid_answer(question, answer) is ok


def test_carry_over_keeps_lasting_answers_only() -> None:
    previous = {**calm(), "rf_fever": "yes", "pregnancy": "yes", "dropped_question": "x"}
    kept, done = rules.carry_over(V1, previous)
    assert "rf_fever" not in kept
    assert "pregnancy" not in kept
    assert "dropped_question" not in kept
    assert kept["anticoagulants"] == "no"
    assert "warning_signs" not in done
    assert "pregnancy" not in done
    assert "medicines" in done


def test_carry_over_drops_answers_the_new_version_no_allows() -> None:
    v2 = json.loads(json.dumps(V1))
    onset = next(q for q in rules.questions(v2) if q["key"] == "onset")
    onset["options"] = [["recent", "Recently"], ["long_ago", "Long ago"]]
    kept, done = rules.carry_over(v2, calm())
    assert "onset" not in kept
    assert "onset" not in done


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def test_published_version_1_is_frozen() -> None:
    """A change to v1 would alter how answers already given read: publish a v2 instead."""
    assert _digest(FIRST_VISIT_INTAKE_V1) == FROZEN_QUESTIONNAIRE
    assert _digest(CONSENT_TEXTS_V1) == FROZEN_CONSENT


FROZEN_QUESTIONNAIRE = "9e659252b523f7fb2f6817c0e06f64194483f61685534ad762cc512898b0f75f"
FROZEN_CONSENT = "b5af1dcac0bd4a8ad97c4a4493ae9b0568d5816f895923a2b22e02f794be2830"
