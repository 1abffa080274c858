"""Fields and field helpers shared by the forms of several pages.

Numbers, prices and times are typed into text boxes (GOV.UK: no `type=number`); spaces and
commas are ignored. Ranges and messages come from `booking.services.clinic.checks.LIMITS`, so
a form and the service that backs it up say the same thing. Dates are typed into three boxes
(ux.md §7): `read_date_parts` reads them for `DatePartsField` and the date-of-birth pages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from typing import Any, TypeVar

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovRadioInput, GovTextInput
from wtforms import Field, RadioField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import Length, StopValidation

from booking.domain.formatting import MONTHS
from booking.forms import FlaskForm, Present
from booking.services.clinic.checks import LIMITS, MAX_PRICE_PENCE, NAME_MAX

YES_NO = [("yes", "Yes"), ("no", "No")]
_NUMBER = re.compile(r"\d{1,6}")
_PRICE = re.compile(r"£?(\d{1,6})(?:\.(\d{1,2}))?")


# ---- Radios and checkboxes ---------------------------------------------------------------------


class _DropEmptyHint:
    """govuk-frontend-wtf gives radios and checkboxes a hint even without a description,
    which renders an empty hint that `aria-describedby` then points at."""

    def map_gov_params(self, field: Field, **kwargs: Any) -> dict[str, Any]:
        params = super().map_gov_params(field, **kwargs)  # type: ignore[misc]
        hint = params.get("hint") or {}
        if not hint.get("text") and not hint.get("html"):
            params.pop("hint", None)
        return params


class RadioInput(_DropEmptyHint, GovRadioInput):
    pass


class CheckboxesInput(_DropEmptyHint, GovCheckboxesInput):
    pass


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def radios(
    label: str, options: list[tuple[str, str]], message: str, *, empty_choice: bool = False
) -> RadioField:
    """GOV.UK radios with `message` when none is chosen.

    `empty_choice`: one of the choices has the value "" (like "No room"), so an empty value
    is an answer; only a missing one is refused.
    """
    return RadioField(
        label,
        choices=choices(options),
        widget=RadioInput(),
        validators=[] if empty_choice else [Present(message)],
        invalid_choice_message=message,
    )


def checkboxes(label: str, message: str) -> SelectMultipleField:
    return SelectMultipleField(
        label,
        choices=[],
        widget=CheckboxesInput(),
        invalid_choice_message=message,
    )


class OptionalRadioField(RadioField):
    """Radios that may be left unanswered (`data` None); a tampered value is still refused."""

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data in (None, ""):
            return
        super().pre_validate(form)


def optional_radios(label: str, message: str) -> OptionalRadioField:
    return OptionalRadioField(
        label, choices=[], widget=RadioInput(), invalid_choice_message=message
    )


# ---- Text, numbers and prices ------------------------------------------------------------------


def name_field(label: str = "Name") -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        validators=[
            Present("Enter a name"),
            Length(max=NAME_MAX, message=f"Name must be {NAME_MAX} characters or fewer"),
        ],
    )


def is_yes(field: Field) -> bool:
    return field.data == "yes"


def text_of(field: Field) -> str:
    return str(field.data or "")


def int_or_none(field: Field) -> int | None:
    return int(field.data) if field.data not in (None, "") else None


class WholeNumberField(StringField):
    """A whole number typed in a text box; `data` is an int, or None when left empty.

    `blank` is the message for an empty box; without it the box is optional. Its length is
    bounded by the pattern (at most 6 digits), so it needs no `Length` validator.
    """

    widget = GovTextInput()

    def __init__(
        self, label: str, *, limit: str, example: int, blank: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(label, **kwargs)
        self.limit = LIMITS[limit]
        self.example = example
        self.blank = blank

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = re.sub(r"[\s,]", "", str(valuelist[0])) if valuelist else ""
        self.data = int(text) if _NUMBER.fullmatch(text) else None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.data)

    def pre_validate(self, form: FlaskForm) -> None:
        typed = str(self.raw_data[0]).strip() if self.raw_data else ""
        if not typed:
            if self.blank:
                raise StopValidation(self.blank)
            return
        if self.data is None:
            unit = f" of {self.limit.unit}" if self.limit.unit else ""
            raise StopValidation(
                f"{self.limit.noun} must be a whole number{unit}, like {self.example}"
            )
        if not self.limit.low <= self.data <= self.limit.high:
            raise StopValidation(self.limit.message())


class PriceField(StringField):
    """A price in pounds ("70", "£45.50"); `data` is pence, or None when left empty.

    Its length is bounded by the pattern, so it needs no `Length` validator.
    """

    widget = GovTextInput()
    data: int | None

    def __init__(self, label: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = re.sub(r"[\s,]", "", str(valuelist[0])) if valuelist else ""
        match = _PRICE.fullmatch(text)
        if match:
            pounds, pence = match.group(1), (match.group(2) or "0").ljust(2, "0")
            self.data = int(pounds) * 100 + int(pence)
        else:
            self.data = None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        if self.data is None:
            return ""
        pounds, pence = divmod(int(self.data), 100)
        return f"{pounds}.{pence:02d}" if pence else str(pounds)

    def pre_validate(self, form: FlaskForm) -> None:
        typed = str(self.raw_data[0]).strip() if self.raw_data else ""
        if not typed:
            return
        if self.data is None:
            raise StopValidation("Enter a price in pounds, like 70 or 45.50")
        if self.data > MAX_PRICE_PENCE:
            raise StopValidation("Price must be between £0 and £1,000")


# ---- Times of day ------------------------------------------------------------------------------

_CLOCK = re.compile(r"(\d{1,2})(?:[:.]?(\d{2}))?(am|pm)?")
_CLOCK_WORDS = {"noon": time(12), "midday": time(12), "midnight": time(0)}
START_TIME_MESSAGE = "Enter a start time, like 9:00 or 2:30pm"
END_TIME_MESSAGE = "Enter an end time, like 5:30pm or 17:30"


def parse_clock(text: str) -> time | None:
    """A wall-clock time typed leniently ("9", "9:00", "09.30", "5pm", "2:30 p.m.", "noon").

    Returns None when the text is not a time of day.
    """
    cleaned = re.sub(r"\s+", "", text.lower()).replace("a.m.", "am").replace("p.m.", "pm")
    if cleaned in _CLOCK_WORDS:
        return _CLOCK_WORDS[cleaned]
    match = _CLOCK.fullmatch(cleaned)
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if minute > 59:
        return None
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif hour > 23:
        return None
    return time(hour, minute)


class ClockTimeField(StringField):
    """A time of day typed in a text box; `data` is a `time`, or None when left empty.

    `message` is shown when the box cannot be read as a time, and when it is empty unless
    `optional`. Its length is bounded by the pattern, so it needs no `Length` validator.
    """

    widget = GovTextInput()

    def __init__(self, label: str, *, message: str, optional: bool = False, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.message = message
        self.optional = optional

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = parse_clock(str(valuelist[0])) if valuelist else None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else f"{self.data.hour}:{self.data.minute:02d}"

    def pre_validate(self, form: FlaskForm) -> None:
        typed = str(self.raw_data[0]).strip() if self.raw_data else ""
        if not typed and self.optional:
            return
        if self.data is None:
            raise StopValidation(self.message)


# ---- Dates in three boxes ----------------------------------------------------------------------

DATE_PARTS = ("day", "month", "year")


class DatePartsError(ValueError):
    """Three boxes that do not make a date: the message, and the boxes to mark in error."""

    def __init__(self, message: str, parts: tuple[str, ...] = DATE_PARTS) -> None:
        super().__init__(message)
        self.message = message
        self.parts = parts


def read_date_parts(typed: Mapping[str, str], *, noun: str, max_length: int = 10) -> date | None:
    """The date typed in day, month and year boxes, or None when all three are empty.

    Spaces and hyphens are ignored; months may be names ("jan", "March"). Raises
    DatePartsError ("<noun> must include a month", "<noun> must be a real date", "Year must
    include 4 numbers") naming the boxes in error. A box longer than `max_length` after that
    is not a real date: it bounds what reaches int() and date().
    """
    raw = {part: re.sub(r"[\s\-]", "", typed.get(part) or "") for part in DATE_PARTS}
    missing = tuple(part for part, value in raw.items() if not value)
    if len(missing) == 3:
        return None
    if missing:
        raise DatePartsError(f"{noun} must include a {' and '.join(missing)}", missing)
    if any(len(value) > max_length for value in raw.values()):
        raise DatePartsError(f"{noun} must be a real date")
    month_text = raw["month"].lower()
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    month = MONTHS.get(month_text) or (int(month_text) if month_text.isdecimal() else 0)
    if not raw["day"].isdecimal() or not raw["year"].isdecimal() or not month:
        raise DatePartsError(f"{noun} must be a real date")
    if len(raw["year"]) != 4:
        raise DatePartsError("Year must include 4 numbers", ("year",))
    try:
        return date(int(raw["year"]), month, int(raw["day"]))
    except (ValueError, OverflowError) as error:  # a day or month past the C int range overflows
        raise DatePartsError(f"{noun} must be a real date") from error


class DatePartsField(Field):
    """A GOV.UK date input: boxes named `<name>-day`, `-month`, `-year` (ux.md §7).

    `data` is a `date`, or None when all three are empty and the field is optional (no
    `blank` message). The error summary links to the first box in error.
    """

    PARTS = DATE_PARTS

    def __init__(self, label: str, *, noun: str, blank: str | None = None, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.noun = noun
        self.blank = blank
        self.parts: dict[str, str] = dict.fromkeys(self.PARTS, "")
        self.parts_in_error: list[str] = []
        self.id = f"{self.name}-day"

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        self.process_errors: list[Any] = []
        self.object_data = data if isinstance(data, date) else None
        self.data = self.object_data
        if self.data is not None:
            self.parts = {"day": str(data.day), "month": str(data.month), "year": str(data.year)}
        self.raw_data = None
        if formdata is not None:
            self.parts = {p: str(formdata.get(f"{self.name}-{p}", "")) for p in self.PARTS}
            self.raw_data = list(self.parts.values())
            self.data = None

    def _fail(self, message: str, parts: tuple[str, ...] = PARTS) -> None:
        self.parts_in_error = list(parts)
        self.id = f"{self.name}-{parts[0]}"
        raise StopValidation(message)

    def pre_validate(self, form: FlaskForm) -> None:
        if self.raw_data is None:
            return
        try:
            self.data = read_date_parts(self.parts, noun=self.noun)
        except DatePartsError as error:
            self._fail(error.message, error.parts)
        if self.data is None and self.blank:
            self._fail(self.blank)


T = TypeVar("T")


def validated(value: T | None) -> T:
    """A required box's value once the form validated (its `blank` message refused None)."""
    if value is None:
        raise ValueError("a form's values were read before it validated")
    return value
