"""Forms of the patient's own account pages: contact details, asking for erasure."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError

from booking.domain.errors import InvalidInput
from booking.domain.phones import PHONE_MAX, parse_phone
from booking.forms import FlaskForm, Present
from booking.forms.fields import radios, text_of

PREFERENCES = [("email", "By email"), ("phone", "By phone")]
UNDERSTOOD = "understood"


class ContactDetailsForm(FlaskForm):
    phone = StringField(
        "Phone number",
        widget=GovTextInput(),
        validators=[
            Present("Enter your phone number"),
            Length(max=PHONE_MAX, message=f"Phone number must be {PHONE_MAX} characters or fewer"),
        ],
    )
    contact_preference = radios(
        "How should we contact you?", PREFERENCES, "Select how we should contact you"
    )
    submit = SubmitField("Save contact details", widget=GovSubmitInput())

    def __init__(self, *args: Any, region: str = "GB", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region = region
        self.e164 = ""

    def validate_phone(self, field: StringField) -> None:
        """Valid for the patient's home country (phonenumbers), kept in E.164."""
        try:
            self.e164 = parse_phone(text_of(field), self.region)
        except InvalidInput as error:
            raise ValidationError(error.message) from error


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


class PlanChangeForm(FlaskForm):
    """ "Request a change" to a treatment plan: one question, sent to reception."""

    message = TextAreaField(
        "What would you like to change?",
        widget=GovTextArea(),
        validators=[
            Present("Enter what you would like to change"),
            Length(max=1000, message="Your message must be 1000 characters or fewer"),
        ],
    )
    submit = SubmitField("Send to reception", widget=GovSubmitInput())
