"""The admin's security settings page."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput
from wtforms import BooleanField, SubmitField

from booking.forms import FlaskForm


class SecurityForm(FlaskForm):
    mfa_required = BooleanField(
        "Every member of staff must sign in with a code from an authenticator app",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Save security settings", widget=GovSubmitInput())
