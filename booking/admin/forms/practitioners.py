"""Practitioners: a new account, and the profile patients see."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovPasswordInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import PasswordField, StringField, SubmitField, TextAreaField
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
from booking.services.accounts.passwords import PASSWORD_MAX
from booking.services.clinic.practitioners import (
    BIO_MAX,
    EMAIL_MAX,
    PASSWORD_MIN,
    NewPractitionerValues,
    PractitionerValues,
    check_account_email,
    check_password,
)


class NewPractitionerForm(FlaskForm):
    display_name = name_field()
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        description="They sign in with it.",
        validators=[
            Present("Enter an email address"),
            Length(max=EMAIL_MAX, message="Email address must be 254 characters or fewer"),
        ],
    )
    password = PasswordField(
        "First password",
        widget=GovPasswordInput(),
        description=f"At least {PASSWORD_MIN} characters. Give it to them privately; "
        "they choose their own later.",
        validators=[
            Present("Enter a password"),
            Length(
                max=PASSWORD_MAX, message=f"Password must be {PASSWORD_MAX} characters or fewer"
            ),
        ],
    )
    submit = SubmitField("Add practitioner", widget=GovSubmitInput())

    def validate_email(self, field: StringField) -> None:
        try:
            check_account_email(text_of(field))
        except InvalidInput as error:
            raise StopValidation(error.message) from error

    def validate_password(self, field: PasswordField) -> None:
        try:
            check_password(text_of(field))
        except InvalidInput as error:
            raise StopValidation(error.message) from error

    def values(self) -> NewPractitionerValues:
        return NewPractitionerValues(
            display_name=text_of(self.display_name),
            email=text_of(self.email),
            password=text_of(self.password),
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
