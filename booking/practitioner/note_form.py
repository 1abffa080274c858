"""The note form: read every box on its own, so one mistake never loses the others.

`read_note_form` returns the values that were valid (saved as the draft at once) and an
error per field that was not; `note_form_data` gives the boxes' text for a stored note.
WTForms checks the CSRF token only: the note's boxes are many and a partial save is the
point, which a validate-all form does not fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from booking.domain.errors import InvalidInput
from booking.domain.notes import options
from booking.domain.notes.points import PointUse, Side, parse_points, points_text
from booking.domain.notes.signing import ADVERSE_EVENTS, MODALITIES
from booking.models import ClinicalNote
from booking.services.notes.writing import NOTE_FIELDS

TEXT_MAX = 5000
POINTS_MAX = 2000  # about 150 points
TEXTS = ("chief_complaint", "response", "observations", "pattern_text", "plan", "adverse_detail")
NUMBERS: dict[str, tuple[str, int, int]] = {  # field: (label, lowest, highest)
    "pain_score": ("Pain today", 0, 10),
    "electro_hz": ("Electro-acupuncture frequency", 1, 1000),
    "electro_minutes": ("Electro-acupuncture minutes", 1, 120),
    "needles_in": ("Needles inserted", 0, 500),
    "needles_out": ("Needles removed", 0, 500),
}
CHOICES: dict[str, dict[str, str]] = {  # one of
    "tongue_colour": options.TONGUE_COLOURS,
    "tongue_coating": options.TONGUE_COATINGS,
}
MULTI: dict[str, dict[str, str]] = {  # any of
    "tongue_shape": options.TONGUE_SHAPES,
    "pulse_positions": options.PULSE_POSITIONS,
    "pulse_qualities": options.PULSE_QUALITIES,
    "patterns": options.PATTERNS,
    "modalities": MODALITIES,
    "adverse_events": {"none": "None", **ADVERSE_EVENTS},
}
ORDER = NOTE_FIELDS  # the error summary lists problems in the form's order


@dataclass
class NoteForm:
    values: dict[str, Any] = field(default_factory=dict)  # valid values, to save
    errors: dict[str, str] = field(default_factory=dict)


def _number(raw: str, label: str, low: int, high: int) -> int | None:
    text = raw.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise InvalidInput(f"{label} must be a whole number, like {low + 2}")
    number = int(text)
    if not low <= number <= high:
        raise InvalidInput(f"{label} must be between {low} and {high}")
    return number


def read_note_form(form: MultiDict[str, str]) -> NoteForm:
    result = NoteForm()
    for name in TEXTS:
        text = form.get(name, "").strip()
        if len(text) > TEXT_MAX:
            result.errors[name] = f"Enter {TEXT_MAX} characters or fewer"
        else:
            result.values[name] = text
    for name, (label, low, high) in NUMBERS.items():
        try:
            result.values[name] = _number(form.get(name, ""), label, low, high)
        except InvalidInput as error:
            result.errors[name] = error.message
    for name, known in CHOICES.items():
        chosen = form.get(name, "")
        if chosen and chosen not in known:
            result.errors[name] = "Select one of the options"
        else:
            result.values[name] = chosen
    for name, known in MULTI.items():
        ticked = form.getlist(name)
        if any(code not in known for code in ticked):
            result.errors[name] = "Select from the options"
            continue
        codes = [code for code in known if code in ticked]
        if name == "adverse_events" and "none" in codes:
            if len(codes) > 1:
                result.errors[name] = "Select “None” or the adverse events, not both"
                continue
            codes.clear()
        result.values[name] = ",".join(codes)
    points = form.get("points", "")
    try:
        if len(points) > POINTS_MAX:
            raise InvalidInput(f"Enter {POINTS_MAX} characters or fewer")
        result.values["points"] = [p.as_dict() for p in parse_points(points)]
    except InvalidInput as error:
        result.errors["points"] = error.message
    if "other" in result.values.get("adverse_events", "").split(",") and not result.values.get(
        "adverse_detail"
    ):
        result.errors["adverse_detail"] = "Describe the other adverse event"
    return result


def stored_points(note: ClinicalNote) -> list[PointUse]:
    return [PointUse(row["code"], Side(row["side"])) for row in note.points]


def note_form_data(note: ClinicalNote | None) -> dict[str, Any]:
    """What each box shows for a stored note (empty boxes for a new one)."""
    data: dict[str, Any] = dict.fromkeys((*TEXTS, *NUMBERS, *CHOICES, "points"), "")
    data.update({name: [] for name in MULTI})
    if note is None:
        return data
    for name in (*TEXTS, *CHOICES):
        data[name] = getattr(note, name)
    for name in NUMBERS:
        value = getattr(note, name)
        data[name] = "" if value is None else str(value)
    for name in MULTI:
        data[name] = [code for code in getattr(note, name).split(",") if code]
    if note.signed_at is not None and not data["adverse_events"]:
        data["adverse_events"] = ["none"]
    data["points"] = points_text(stored_points(note))
    return data


def submitted_data(form: MultiDict[str, str]) -> dict[str, Any]:
    """The boxes as typed, to show again beside the errors."""
    data: dict[str, Any] = {name: form.get(name, "") for name in (*TEXTS, *NUMBERS, *CHOICES)}
    data["points"] = form.get("points", "")
    data.update({name: form.getlist(name) for name in MULTI})
    return data


def ordered_errors(errors: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(name, errors[name]) for name in ORDER if name in errors]
