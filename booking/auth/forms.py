from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import Length, StopValidation

from booking.domain.errors import InvalidInput
from booking.forms import FlaskForm, Present
from booking.models import Role
from booking.services.accounts.password_change import SAME_AS_CURRENT
from booking.services.accounts.passwords import check_new_password


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            Present("Enter your email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
        ],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[
            Present("Enter your password"),
            Length(max=128, message="Password must be 128 characters or fewer"),
        ],
    )
    next = HiddenField()
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class ChangePasswordForm(FlaskForm):
    """Current, new and confirmed new password; the new one meets the signed-in role's rule."""

    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[
            Present("Enter your current password"),
            Length(max=128, message="Password must be 128 characters or fewer"),
        ],
    )
    new_password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        validators=[
            Present("Enter a new password"),
            Length(max=128, message="Password must be 128 characters or fewer"),
        ],
    )
    confirm_password = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[
            Present("Confirm your new password"),
            Length(max=128, message="Password must be 128 characters or fewer"),
        ],
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())

    def __init__(self, *args: Any, role: Role, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role = role

    def validate_new_password(self, field: PasswordField) -> None:
        try:
            check_new_password(field.data or "", role=self.role)
        except InvalidInput as error:
            raise StopValidation(error.message) from error
        if field.data == self.current_password.data:
            raise StopValidation(SAME_AS_CURRENT)

    def validate_confirm_password(self, field: PasswordField) -> None:
        if field.data != self.new_password.data:
            raise StopValidation("The passwords do not match")


class TwoStepForm(FlaskForm):
    """The second step of a staff sign-in: a code from the app or a recovery code."""

    code = StringField(
        "Code",
        widget=GovTextInput(),
        validators=[
            Present("Enter the code from your authenticator app or a recovery code"),
            Length(max=64, message="Code must be 64 characters or fewer"),
        ],
    )
    next = HiddenField()
    submit = SubmitField("Continue", widget=GovSubmitInput())


class TwoStepSetupForm(FlaskForm):
    """Confirming enrolment: the code the app shows for the new secret."""

    code = StringField(
        "Code from your app",
        widget=GovTextInput(),
        validators=[
            Present("Enter the 6-digit code your app shows"),
            Length(max=16, message="Code must be 16 characters or fewer"),
        ],
    )
    next = HiddenField()
    submit = SubmitField("Turn on two-step verification", widget=GovSubmitInput())
