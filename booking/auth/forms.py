from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import Length, StopValidation

from booking.book.forms import DateOfBirthForm, EmailFormMixin, email_field
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


def password_field(label: str, blank: str) -> PasswordField:
    return PasswordField(
        label,
        widget=GovPasswordInput(),
        validators=[
            Present(blank),
            Length(max=128, message="Password must be 128 characters or fewer"),
        ],
    )


class NewPasswordChecks:
    """The role's rule on `new_password`, and `confirm_password` matching it."""

    role: Role
    new_password: PasswordField

    def validate_new_password(self, field: PasswordField) -> None:
        try:
            check_new_password(field.data or "", role=self.role)
        except InvalidInput as error:
            raise StopValidation(error.message) from error

    def validate_confirm_password(self, field: PasswordField) -> None:
        if field.data != self.new_password.data:
            raise StopValidation("The passwords do not match")


class ChangePasswordForm(NewPasswordChecks, FlaskForm):
    """Current, new and confirmed new password; the new one meets the signed-in role's rule."""

    current_password = password_field("Current password", "Enter your current password")
    new_password = password_field("New password", "Enter a new password")
    confirm_password = password_field("Confirm new password", "Confirm your new password")
    # Asked only of someone with two-step verification (security.md §3: a fresh password and
    # code to change the password); the view removes it for everyone else.
    code = StringField(
        "Code from your authenticator app",
        widget=GovTextInput(),
        validators=[
            Present("Enter the code from your authenticator app or a recovery code"),
            Length(max=64, message="Code must be 64 characters or fewer"),
        ],
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())

    def __init__(self, *args: Any, role: Role, second_factor: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role = role
        if not second_factor:
            del self.code

    def validate_new_password(self, field: PasswordField) -> None:
        super().validate_new_password(field)
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


class ForgotPasswordForm(EmailFormMixin, FlaskForm):
    email = email_field()
    submit = SubmitField("Send the link", widget=GovSubmitInput())


class NewPasswordForm(NewPasswordChecks, FlaskForm):
    """A new password chosen on an emailed link, typed twice; the role's rule applies."""

    new_password = password_field("New password", "Enter a new password")
    confirm_password = password_field("Confirm new password", "Confirm your new password")
    submit = SubmitField("Save password", widget=GovSubmitInput())

    def __init__(self, *args: Any, role: Role, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role = role


DOB_PARTS = ("dob_day", "dob_month", "dob_year")


class CreateAccountForm(EmailFormMixin, DateOfBirthForm):
    """The address the bookings were made with and the date of birth given with them."""

    email = email_field()
    submit = SubmitField("Send the link", widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        fields_ok = FlaskForm.validate(self, extra_validators)
        if any(getattr(self, name).errors for name in DOB_PARTS):
            self.parts_in_error = list(DOB_PARTS)
            for name in DOB_PARTS[1:]:
                getattr(self, name).errors = []
            self.dob_day.errors = ["Date of birth must be a real date"]
            return False
        return self.read_date() and fields_ok
