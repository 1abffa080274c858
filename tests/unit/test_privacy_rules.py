"""Pure rules of data rights: retention periods, free-text answers, hidden link tokens."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from booking.domain.intake.questionnaire_v1 import FIRST_VISIT_INTAKE_V1
from booking.domain.privacy import (
    free_text_keys,
    hide_link_tokens,
    readable_value,
    retention_ends,
    without_free_text,
)


@pytest.mark.parametrize(
    ("last", "born", "years", "ends"),
    [
        (date(2027, 3, 1), date(1970, 1, 1), 8, date(2035, 3, 1)),  # adult
        (date(2028, 2, 29), None, 8, date(2036, 2, 29)),  # leap day to leap day
        (date(2028, 2, 29), None, 7, date(2035, 2, 28)),  # leap day to a common year
        (date(2027, 3, 1), date(2020, 1, 1), 8, date(2045, 1, 1)),  # child: until 25
        (date(2027, 3, 1), date(2010, 1, 1), 8, date(2035, 3, 1)),  # 17 then: 8 years is later
        (date(2027, 3, 1), date(2009, 3, 1), 8, date(2035, 3, 1)),  # 18 that day: an adult
    ],
)
def test_retention_ends(last: date, born: date | None, years: int, ends: date) -> None:
    assert retention_ends(last, born, years) == ends


def test_retention_needs_a_year_at_least() -> None:
    with pytest.raises(ValueError, match="at least one year"):
        retention_ends(date(2027, 1, 1), None, 0)


def test_free_text_answers_go_and_choices_stay() -> None:
    keys = free_text_keys(FIRST_VISIT_INTAKE_V1)
    assert {"concern", "medicines", "allergy_details", "ec_name", "gp_name"} <= keys
    assert not keys & {"onset", "pain_now", "conditions", "pregnancy"}
    answers = {"concern": "my words", "onset": "under_6_weeks", "conditions": ["diabetes"]}
    assert without_free_text(answers, keys) == {
        "onset": "under_6_weeks",
        "conditions": ["diabetes"],
    }


def test_emailed_link_tokens_are_hidden() -> None:
    token = "Ab-_0123456789abcdefghijklmnopqrstuvwxyzABC"
    text = f"Change it: https://book.example/manage/{token}\nOr https://book.example/help"
    assert hide_link_tokens(text) == (
        "Change it: https://book.example/manage/[link removed]\nOr https://book.example/help"
    )
    scores = f"Your scores: https://book.example/scores/12/{token}"
    assert hide_link_tokens(scores) == "Your scores: https://book.example/scores/[link removed]"


def test_readable_values() -> None:
    london = ZoneInfo("Europe/London")
    instant = datetime(2027, 7, 1, 13, 30, tzinfo=UTC).isoformat()
    assert readable_value(instant, london) == "Thursday 1 July 2027 at 2:30pm"
    assert readable_value("1984-02-03", london) == "Friday 3 February 1984"
    assert readable_value(None, london) == "Not recorded"
    assert readable_value(True, london) == "Yes"
    assert readable_value("under_6_weeks", london) == "under 6 weeks"
    assert readable_value(["a", "b"], london) == "a, b"
    points = [{"code": "LI4", "side": "left"}, {"code": "GV20", "side": "midline"}]
    assert readable_value(points, london) == "code: LI4, side: left; code: GV20, side: midline"
