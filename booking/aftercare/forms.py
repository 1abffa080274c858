"""The side-effect report form."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length, ValidationError

from booking.forms import FlaskForm
from booking.forms.fields import checkboxes, choices
from booking.services.aftercare.reports import DETAIL_MAX, EFFECTS


class SideEffectForm(FlaskForm):
    effects = checkboxes("How are you feeling since your session?", "Select how you are feeling")
    detail = TextAreaField(
        "Tell us more (optional)",
        widget=GovTextArea(),
        validators=[Length(max=DETAIL_MAX, message=f"Tell us in {DETAIL_MAX} characters or fewer")],
    )
    submit = SubmitField("Send", widget=GovSubmitInput())

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.effects.choices = choices(list(EFFECTS.items()))

    def validate_effects(self, field: object) -> None:
        data = self.effects.data or []
        if not data:
            raise ValidationError("Select how you are feeling")
        if "none" in data and len(data) > 1:
            raise ValidationError("Select ‘I feel fine’ on its own, or clear it")

    def validate_detail(self, field: object) -> None:
        if "other" in (self.effects.data or []) and not (self.detail.data or "").strip():
            raise ValidationError("Describe what else you have noticed")
