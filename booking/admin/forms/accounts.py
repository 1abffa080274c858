"""Inviting a member of staff: their name, address and the kind of account."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import Length

from booking.forms import FlaskForm, Present
from booking.forms.fields import name_field, radios, text_of
from booking.services.accounts.staff import InviteValues
from booking.services.clinic.practitioners import EMAIL_MAX

STAFF_KINDS = [
    ("practitioner", "Practitioner"),
    ("receptionist", "Receptionist"),
    ("admin", "Admin"),
]


class InviteForm(FlaskForm):
    display_name = name_field()
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        description="We email the invitation here. They sign in with it.",
        validators=[
            Present("Enter an email address"),
            Length(max=EMAIL_MAX, message="Email address must be 254 characters or fewer"),
        ],
    )
    role = radios("What will they do?", STAFF_KINDS, "Select what they will do")
    submit = SubmitField("Send invitation", widget=GovSubmitInput())

    def values(self) -> InviteValues:
        return InviteValues(
            display_name=text_of(self.display_name),
            email=text_of(self.email),
            role=text_of(self.role),
        )
