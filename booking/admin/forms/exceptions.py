"""Dated exceptions: time off and extra hours (admin and own pages), closures and holidays."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import Length

from booking.forms import FlaskForm
from booking.forms.fields import (
    END_TIME_MESSAGE,
    START_TIME_MESSAGE,
    ClockTimeField,
    DatePartsField,
    choices,
    int_or_none,
    optional_radios,
    radios,
    text_of,
)
from booking.services.rota.exceptions import REASON_MAX, ExceptionValues


def _reason_field(description: str) -> StringField:
    return StringField(
        "Reason (optional)",
        widget=GovTextInput(),
        description=description,
        validators=[
            Length(max=REASON_MAX, message=f"Reason must be {REASON_MAX} characters or fewer")
        ],
    )


class _ExceptionForm(FlaskForm):
    """Time off, extra hours and closures: one dated exception, the same values."""

    def values(self) -> ExceptionValues:
        return ExceptionValues(
            kind=text_of(self.kind),
            on_date=self.on_date.data,
            start_time=self.start_time.data,
            end_time=self.end_time.data,
            location_id=int_or_none(self.location_id),
            reason=text_of(self.reason),
        )


class TimeOffForm(_ExceptionForm):
    kind = radios(
        "What do you want to add?",
        [("time_off", "Time off"), ("extra_hours", "Extra hours")],
        "Select time off or extra hours",
    )
    on_date = DatePartsField("Date", noun="Date", blank="Enter the date")
    start_time = ClockTimeField("Start time (optional)", message=START_TIME_MESSAGE, optional=True)
    end_time = ClockTimeField("End time (optional)", message=END_TIME_MESSAGE, optional=True)
    location_id = optional_radios(
        "Where are the extra hours? (optional)", "Select where the extra hours are"
    )
    reason = _reason_field("Only staff see it.")
    submit = SubmitField("Add", widget=GovSubmitInput())

    def __init__(self, *args: Any, locations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.location_id.choices = choices([(str(i), name) for i, name in locations])


class ClosureForm(_ExceptionForm):
    kind = radios(
        "What is it?",
        [("closure", "Closure"), ("holiday", "Public holiday")],
        "Select closure or public holiday",
    )
    location_id = radios("Where does it apply?", [], "Select where it applies", empty_choice=True)
    on_date = DatePartsField("Date", noun="Date", blank="Enter the date")
    start_time = ClockTimeField("Start time (optional)", message=START_TIME_MESSAGE, optional=True)
    end_time = ClockTimeField("End time (optional)", message=END_TIME_MESSAGE, optional=True)
    reason = _reason_field("For example, staff training. Only staff see it.")
    submit = SubmitField("Add closure", widget=GovSubmitInput())

    def __init__(self, *args: Any, locations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.location_id.choices = choices(
            [("", "Every location"), *((str(i), name) for i, name in locations)]
        )
