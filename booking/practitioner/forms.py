"""Forms of the practitioner's calendar: go to a date, change a time, cancel with a reason."""

from __future__ import annotations

from datetime import date

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from booking.book.forms import choice_field, continue_button
from booking.forms import FlaskForm, Present
from booking.services.booking.staff_actions import REASON_MAX

DATE_FORMAT = "Date must be a real date, like 14 April 2027"


class DateJumpForm(FlaskForm):
    """The GET date picker above a calendar (a native date box: works without JavaScript)."""

    class Meta:
        csrf = False

    date = StringField("Go to a date", widget=GovTextInput(), validators=[Optional()])
    submit = SubmitField("Show", widget=GovSubmitInput())

    def validate_date(self, field: StringField) -> None:
        raw = (field.data or "").strip()
        try:
            field.data = date.fromisoformat(raw) if len(raw) <= 10 else None
        except ValueError:
            field.data = None
        if field.data is None:
            raise ValidationError(DATE_FORMAT)


class ChangeTimeForm(FlaskForm):
    start = choice_field("Choose a new time", "Select a new time")
    submit = continue_button("Move session")


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Why is the session cancelled?",
        description="The patient is told the session is cancelled, not why.",
        widget=GovTextArea(),
        validators=[
            Present("Enter why the session is cancelled"),
            Length(max=REASON_MAX, message=f"Reason must be {REASON_MAX} characters or fewer"),
        ],
    )
    submit = SubmitField("Cancel session", widget=GovSubmitInput())
