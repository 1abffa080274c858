"""Clinical note rules (domain.md §1, §4): WHO point codes and the signing rules, both ways."""

from __future__ import annotations

import pytest

from booking.domain.errors import InvalidInput
from booking.domain.notes import points
from booking.domain.notes.signing import SigningFacts, needs_follow_up, signing_problems

# The standard's channel sizes, written out here independently of the module under test.
WHO_SIZES = [
    ("LU", 11), ("LI", 20), ("ST", 45), ("SP", 21), ("HT", 9), ("SI", 19), ("BL", 67),
    ("KI", 27), ("PC", 9), ("TE", 23), ("GB", 44), ("LR", 14), ("GV", 28), ("CV", 24),
]  # fmt: skip
EVERY_CODE = [f"{channel} {n}" for channel, size in WHO_SIZES for n in range(1, size + 1)]


def test_there_are_361_standard_codes() -> None:
    assert len(EVERY_CODE) == 361
    assert list(points.STANDARD_CODES) == EVERY_CODE


@pytest.mark.parametrize("code", EVERY_CODE)
def test_every_standard_code_is_accepted_in_each_spelling(code: str) -> None:
    channel, number = code.split(" ")
    for typed in (code, f"{channel}{number}".lower(), f"{channel}-{number}", f" {code} "):
        assert points.parse_code(typed) == code


@pytest.mark.parametrize(
    ("typed", "nearest"),
    [
        ("LI 21", "LI 20"),
        ("XX 1", "LU 1"),
        ("ST 0", "ST 1"),
        ("LR 20", "LR 14"),
        ("BL 68", "BL 67"),
        ("EX-B10", "EX-B9"),
        ("GBB 30", "GB 30"),
    ],
)
def test_an_unknown_code_is_refused_naming_the_nearest(typed: str, nearest: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        points.parse_code(typed)
    assert f"Did you mean {nearest}?" in refused.value.message
    assert points.nearest_code(typed) in points.ALL_CODES


@pytest.mark.parametrize(
    ("typed", "code"),
    [("EX-B2", "EX-B2"), ("ex b2", "EX-B2"), ("EX-HN3", "EX-HN3"), ("ex-le12", "EX-LE12"),
     ("EX-CA1", "EX-CA1"), ("EX-UE 11", "EX-UE11")],
)  # fmt: skip
def test_extra_points_follow_the_who_regions(typed: str, code: str) -> None:
    assert points.parse_code(typed) == code


@pytest.mark.parametrize(("alias", "code"), [("SJ 5", "TE 5"), ("DU 20", "GV 20"),
                                             ("REN 6", "CV 6"), ("LIV 3", "LR 3")])  # fmt: skip
def test_older_channel_names_are_stored_as_who_codes(alias: str, code: str) -> None:
    assert points.parse_code(alias) == code


def test_points_carry_a_side_and_midline_points_none() -> None:
    parsed = points.parse_points("LI 4 L\nst36 bilateral, BL-23 r; GV 20")
    assert [p.as_text() for p in parsed] == [
        "LI 4 left",
        "ST 36 bilateral",
        "BL 23 right",
        "GV 20 midline",
    ]
    assert points.parse_points(points.points_text(parsed)) == parsed


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("LI 4", "Give the side of LI 4"),
        ("GV 20 L", "GV 20 is on the midline"),
        ("LI 4 L, li4 left", "LI 4 left is listed twice"),
        ("LI 21 L", "Did you mean LI 20?"),
    ],
)
def test_points_box_refusals(text: str, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        points.parse_points(text)
    assert words in refused.value.message


def facts(**changes: object) -> SigningFacts:
    values: dict[str, object] = {
        "modalities": ["needling"],
        "needles_in": 14,
        "needles_out": 14,
        "consented": ["needling", "electro_acupuncture", "cupping"],
        "flags": [],
        "electro_hz": None,
        "electro_minutes": None,
    }
    values.update(changes)
    return SigningFacts(**values)  # type: ignore[arg-type]


def test_fourteen_in_fourteen_out_signs_and_fourteen_thirteen_does_not() -> None:
    assert signing_problems(facts()) == []
    problems = signing_problems(facts(needles_out=13))
    assert [p.field for p in problems] == ["needles_out"]
    assert "Needles removed (13) does not match needles inserted (14)" in problems[0].message


def test_needle_counts_are_needed_when_needling() -> None:
    assert [p.field for p in signing_problems(facts(needles_in=None))] == ["needles_in"]
    assert signing_problems(facts(modalities=["cupping"], needles_in=None, needles_out=None)) == []


def test_a_modality_without_current_consent_blocks_signing() -> None:
    problems = signing_problems(facts(modalities=["needling", "moxibustion"]))
    assert len(problems) == 1
    assert "Moxibustion is recorded but the patient has no current consent" in problems[0].message
    consented = ["needling", "moxibustion"]
    assert signing_problems(facts(modalities=consented, consented=consented)) == []


def test_electro_under_no_electro_blocks_signing() -> None:
    electro = {"modalities": ["electro_acupuncture"], "electro_hz": 2, "electro_minutes": 20}
    assert signing_problems(facts(**electro)) == []
    problems = signing_problems(facts(flags=["no_electro"], **electro))
    assert len(problems) == 1
    assert "no_electro flag" in problems[0].message
    assert signing_problems(facts(flags=["no_electro"])) == []  # needling alone is fine


def test_electro_needs_frequency_and_minutes() -> None:
    problems = signing_problems(facts(modalities=["electro_acupuncture"], electro_hz=2))
    assert [p.field for p in problems] == ["electro_hz"]


def test_fainting_or_a_forgotten_needle_needs_follow_up() -> None:
    assert needs_follow_up(["fainting"])
    assert needs_follow_up(["bruising", "forgotten_needle"])
    assert not needs_follow_up(["bruising", "soreness"])
    assert not needs_follow_up([])
