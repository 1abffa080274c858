"""The note form's reader (booking/practitioner/note_form.py): each box on its own, never a 500."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from booking.practitioner.note_form import read_note_form


@pytest.mark.parametrize("typed", ["11", "-1", "²", "٣", "4.5", "lots", "9" * 20])
def test_a_bad_pain_score_is_an_error_and_the_other_boxes_are_kept(typed: str) -> None:
    form = read_note_form(MultiDict({"pain_score": typed, "plan": "Weekly", "points": "LI 4 L"}))
    assert "pain_score" in form.errors
    assert form.values["plan"] == "Weekly"
    assert form.values["points"] == [{"code": "LI 4", "side": "left"}]


def test_choices_outside_the_lists_and_none_with_events_are_refused() -> None:
    form = read_note_form(
        MultiDict(
            [
                ("modalities", "laser"),
                ("adverse_events", "none"),
                ("adverse_events", "burn"),
                ("tongue_colour", "green"),
                ("adverse_events", "other"),
            ]
        )
    )
    assert set(form.errors) == {"modalities", "adverse_events", "tongue_colour"}


def test_other_adverse_event_needs_words_and_none_stores_nothing() -> None:
    assert "adverse_detail" in read_note_form(MultiDict({"adverse_events": "other"})).errors
    form = read_note_form(MultiDict({"adverse_events": "none", "pain_score": "0"}))
    assert form.errors == {}
    assert form.values["adverse_events"] == ""
    assert form.values["pain_score"] == 0


def test_a_points_box_too_long_is_refused() -> None:
    assert "points" in read_note_form(MultiDict({"points": "LI 4 L\n" * 400})).errors
