"""Forms of the practitioner's calendar: go to a date, change a time (cancel with a reason:
`booking.desk.forms.CancelForm`, shared with the front desk)."""

from __future__ import annotations

from datetime import date

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import Optional, ValidationError

from booking.book.forms import choice_field, continue_button
from booking.desk.forms import CancelForm
from booking.forms import FlaskForm

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


__all__ = ["CancelForm", "ChangeTimeForm", "DateJumpForm"]
