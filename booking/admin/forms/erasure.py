"""Carrying out a patient's erasure request: a checkbox that says it cannot be undone."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovSubmitInput
from wtforms import SelectMultipleField, SubmitField
from wtforms.fields.choices import SelectChoice

from booking.forms import FlaskForm, Present


class CarryOutErasureForm(FlaskForm):
    confirm = SelectMultipleField(
        "Confirm the erasure",
        choices=[
            SelectChoice(
                "understood",
                "I have checked the request and understand that erasure cannot be undone",
            )
        ],
        widget=GovCheckboxesInput(),
        validators=[Present("Confirm that you understand erasure cannot be undone")],
    )
    submit = SubmitField("Erase personal data", widget=GovSubmitInput())
