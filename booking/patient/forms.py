"""A signed-in patient's contact details."""

from __future__ import annotations

from typing import Any

import phonenumbers
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import Length, ValidationError

from booking.book.forms import PHONE_MAX
from booking.forms import FlaskForm, Present
from booking.forms.fields import radios, text_of

PHONE_INVALID = "Enter a phone number that can be called, like 07400 123456 or +44 7400 123456"
PREFERENCES = [("email", "By email"), ("phone", "By phone")]


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
        try:
            number = phonenumbers.parse(text_of(field).strip(), self.region)
        except phonenumbers.NumberParseException as error:
            raise ValidationError(PHONE_INVALID) from error
        if not phonenumbers.is_valid_number(number):
            raise ValidationError(PHONE_INVALID)
        self.e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
