"""Forms of the patient's own account pages."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovSubmitInput
from wtforms import SelectMultipleField, SubmitField
from wtforms.fields.choices import SelectChoice

from booking.forms import FlaskForm, Present

UNDERSTOOD = "understood"


class ErasureRequestForm(FlaskForm):
    """Asking to erase one's personal data: a checkbox that says it cannot be undone."""

    confirm = SelectMultipleField(
        "Confirm your request",
        choices=[
            SelectChoice(
                UNDERSTOOD,
                "I understand that erasing my personal data cannot be undone, and that my "
                "account will be closed",
            )
        ],
        widget=GovCheckboxesInput(),
        validators=[Present("Confirm that you understand erasure cannot be undone")],
    )
    submit = SubmitField("Ask us to erase my data", widget=GovSubmitInput())
