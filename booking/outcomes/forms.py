"""The score question (one per page) and reception's score form."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField

from booking.forms import FlaskForm
from booking.forms.fields import radios

NUMBERS = [(str(n), str(n)) for n in range(11)]


class ScoreForm(FlaskForm):
    score = radios("Score", NUMBERS, "Select a number from 0 to 10")
    submit = SubmitField("Continue", widget=GovSubmitInput())
