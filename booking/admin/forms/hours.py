"""Weekly hours: a practitioner's regular hours at a location (admin and own pages)."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField

from booking.forms import FlaskForm
from booking.forms.fields import (
    END_TIME_MESSAGE,
    START_TIME_MESSAGE,
    ClockTimeField,
    DatePartsField,
    choices,
    radios,
    validated,
)
from booking.services.rota.hours import WEEKDAYS, HoursValues

WEEKDAY_CHOICES = [(str(day), name) for day, name in enumerate(WEEKDAYS)]


class HoursForm(FlaskForm):
    location_id = radios("Where?", [], "Select a location from the list")
    weekday = radios("Which day?", WEEKDAY_CHOICES, "Select a day")
    start_time = ClockTimeField("Start time", message=START_TIME_MESSAGE)
    end_time = ClockTimeField("End time", message=END_TIME_MESSAGE)
    valid_from = DatePartsField("First day these hours apply (optional)", noun="First day")
    valid_until = DatePartsField("Last day these hours apply (optional)", noun="Last day")
    submit = SubmitField("Add hours", widget=GovSubmitInput())

    def __init__(self, *args: Any, locations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.location_id.choices = choices([(str(i), name) for i, name in locations])

    def values(self) -> HoursValues:
        return HoursValues(
            location_id=int(self.location_id.data),
            weekday=int(self.weekday.data),
            start_time=validated(self.start_time.data),
            end_time=validated(self.end_time.data),
            valid_from=self.valid_from.data,
            valid_until=self.valid_until.data,
        )
