"""Practitioners: inviting a new one, and the profile patients see."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import Length, StopValidation

from booking.domain.errors import InvalidInput
from booking.forms import FlaskForm, Present
from booking.forms.fields import (
    YES_NO,
    checkboxes,
    choices,
    is_yes,
    name_field,
    radios,
    text_of,
)
from booking.services.accounts.staff import InviteValues
from booking.services.clinic.practitioners import (
    BIO_MAX,
    EMAIL_MAX,
    PractitionerValues,
    check_account_email,
)


class NewPractitionerForm(FlaskForm):
    """A name and an address: the practitioner chooses their own password (issue 19)."""

    display_name = name_field()
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        description="We email them an invitation to choose their own password. "
        "They sign in with this address.",
        validators=[
            Present("Enter an email address"),
            Length(max=EMAIL_MAX, message="Email address must be 254 characters or fewer"),
        ],
    )
    submit = SubmitField("Add practitioner", widget=GovSubmitInput())

    def validate_email(self, field: StringField) -> None:
        try:
            check_account_email(text_of(field))
        except InvalidInput as error:
            raise StopValidation(error.message) from error

    def values(self) -> InviteValues:
        return InviteValues(
            display_name=text_of(self.display_name),
            email=text_of(self.email),
            role="practitioner",
        )


class PractitionerForm(FlaskForm):
    display_name = name_field()
    bio = TextAreaField(
        "Bio (optional)",
        widget=GovTextArea(),
        description="A few sentences patients read when choosing who to see.",
        validators=[Length(max=BIO_MAX, message=f"Bio must be {BIO_MAX:,} characters or fewer")],
    )
    session_type_ids = checkboxes(
        "Which sessions do they offer? (optional)", "Select session types from the list"
    )
    can_review_articles = radios(
        "Can they review articles?", YES_NO, "Select yes if they can review articles"
    )
    is_active = radios(
        "Are they taking bookings?", YES_NO, "Select yes if they are taking bookings"
    )
    submit = SubmitField("Save practitioner", widget=GovSubmitInput())

    def __init__(self, *args: Any, session_types: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session_type_ids.choices = choices([(str(i), name) for i, name in session_types])

    def values(self) -> PractitionerValues:
        return PractitionerValues(
            display_name=text_of(self.display_name),
            bio=text_of(self.bio),
            session_type_ids=tuple(int(i) for i in self.session_type_ids.data or ()),
            can_review_articles=is_yes(self.can_review_articles),
            is_active=is_yes(self.is_active),
        )
