"""Staff forms shared by the desk and practitioners: what, where, who and the day; the
time; confirm; cancel with a reason."""

from __future__ import annotations

from datetime import date
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Length, ValidationError

from booking.domain.patients.search import read_date
from booking.forms import FlaskForm, Present
from booking.forms.fields import radios
from booking.services.booking.staff_actions import REASON_MAX as CANCEL_REASON_MAX

REASON_MAX = 200


class ChangeDayForm(FlaskForm):
    """The day to list free times on when moving a session (GET)."""

    class Meta:
        csrf = False

    day = StringField(
        "Day",
        widget=GovTextInput(),
        description="For example, 14/01/2027",
        validators=[Present("Enter a day"), Length(max=20, message="Enter a real day")],
    )
    override = BooleanField(
        "Offer times inside the minimum notice or beyond the booking horizon",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Show free times", widget=GovSubmitInput())

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.chosen_day: date | None = None

    def validate_day(self, field: StringField) -> None:
        self.chosen_day = read_date(field.data or "", today=self.today)
        if self.chosen_day is None:
            raise ValidationError("Enter a real day, like 14/01/2027")


class BookSearchForm(ChangeDayForm):
    """What, where, who and which day (GET: choosing shows free times, changes nothing)."""

    session_type = SelectField("Session type", widget=GovSelect(), coerce=str)
    location = SelectField("Location", widget=GovSelect(), coerce=str)
    practitioner = SelectField("Practitioner", widget=GovSelect(), coerce=str)


class TimeChoiceForm(FlaskForm):
    start = radios("Choose a time", [], "Select a time")
    submit = SubmitField("Hold this time", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    override = HiddenField(validators=[Length(max=1)])
    reason = StringField(
        "Why are the notice or horizon overridden?",
        widget=GovTextInput(),
        validators=[Length(max=REASON_MAX, message="Reason must be 200 characters or fewer")],
    )
    submit = SubmitField("Book session", widget=GovSubmitInput())

    def validate_reason(self, field: StringField) -> None:
        if self.override.data == "1" and not (field.data or "").strip():
            raise ValidationError("Enter why the notice or horizon is overridden")


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Why is the session cancelled?",
        description="The patient is told the session is cancelled, not why.",
        widget=GovTextArea(),
        validators=[
            Present("Enter why the session is cancelled"),
            Length(
                max=CANCEL_REASON_MAX,
                message=f"Reason must be {CANCEL_REASON_MAX} characters or fewer",
            ),
        ],
    )
    submit = SubmitField("Cancel session", widget=GovSubmitInput())
