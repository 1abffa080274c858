"""One form per booking and manage page (ux.md §2, §5, §7)."""

from __future__ import annotations

from datetime import date
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, HiddenField, RadioField, StringField, SubmitField
from wtforms.validators import Length, ValidationError

from booking.domain.errors import InvalidInput
from booking.domain.phones import PHONE_MAX, parse_phone
from booking.forms import FlaskForm, Present
from booking.forms.fields import DATE_PARTS, DatePartsError, read_date_parts
from booking.services.platform.emails import check_email_format

NAME_MAX = 100
EMAIL_MAX = 254


def choice_field(label: str, message: str) -> RadioField:
    """Radios with no pre-selection; an empty or unknown answer gets the same message."""
    return RadioField(
        label,
        choices=[],
        widget=GovRadioInput(),
        validators=[Present(message)],
        invalid_choice_message=message,
    )


def continue_button(text: str = "Continue") -> SubmitField:
    return SubmitField(text, widget=GovSubmitInput())


class SessionTypeForm(FlaskForm):
    session_type = choice_field(
        "What would you like to book?", "Select what you would like to book"
    )
    submit = continue_button()


class LocationForm(FlaskForm):
    location = choice_field("Where would you like to go?", "Select where you would like to go")
    submit = continue_button()


class PractitionerForm(FlaskForm):
    practitioner = choice_field(
        "Who would you like to see?", "Select who you would like to see, or No preference"
    )
    submit = continue_button()


class DayForm(FlaskForm):
    day = choice_field("Choose a day", "Select a day")
    submit = continue_button()


class TimeForm(FlaskForm):
    start = choice_field("Choose a time", "Select a time")
    submit = continue_button()


class ReturningForm(FlaskForm):
    returning = choice_field(
        "Have you booked with us before?", "Select yes if you have booked with us before"
    )
    submit = continue_button()


class SafetyForm(FlaskForm):
    safety = choice_field(
        "Do any of these apply to you?", "Select yes if any of these apply to you"
    )
    submit = continue_button()


class ContactPreferenceForm(FlaskForm):
    contact_preference = choice_field(
        "How should we contact you?", "Select how we should contact you"
    )
    submit = continue_button()


def email_field(label: str = "Email address") -> EmailField:
    return EmailField(
        label,
        widget=GovTextInput(),
        validators=[
            Present("Enter your email address"),
            Length(max=EMAIL_MAX, message="Email address must be 254 characters or fewer"),
        ],
    )


class EmailFormMixin:
    email: EmailField
    normalised_email: str = ""

    def validate_email(self, field: EmailField) -> None:
        # email-validator's form (local part kept as typed); lookups match it case-insensitively.
        try:
            self.normalised_email = check_email_format(field.data)
        except InvalidInput as error:
            raise ValidationError(error.message) from error


class FindYouForm(EmailFormMixin, FlaskForm):
    email = email_field()
    submit = continue_button()


class NewLinkForm(EmailFormMixin, FlaskForm):
    email = email_field()
    submit = continue_button("Send a new link")


class NameForm(FlaskForm):
    given_name = StringField(
        "First name",
        widget=GovTextInput(),
        validators=[
            Present("Enter your first name"),
            Length(max=NAME_MAX, message="First name must be 100 characters or fewer"),
        ],
    )
    family_name = StringField(
        "Last name",
        widget=GovTextInput(),
        validators=[
            Present("Enter your last name"),
            Length(max=NAME_MAX, message="Last name must be 100 characters or fewer"),
        ],
    )
    submit = continue_button()


DATE_PART_MAX = 20


def _date_part(label: str) -> StringField:
    return StringField(
        label,
        validators=[Length(max=DATE_PART_MAX, message="Date of birth must be a real date")],
    )


class DateOfBirthForm(FlaskForm):
    """Three boxes; one message for the date, on the first part in error (ux.md §7)."""

    dob_day = _date_part("Day")
    dob_month = _date_part("Month")
    dob_year = _date_part("Year")
    submit = continue_button()

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.date_of_birth: date | None = None
        self.parts_in_error: list[str] = []

    @property
    def date_error(self) -> str | None:
        for name in ("dob_day", "dob_month", "dob_year"):
            errors = getattr(self, name).errors
            if errors:
                return errors[0]
        return None

    def _fail(self, message: str, parts: list[str]) -> bool:
        self.parts_in_error = parts
        getattr(self, parts[0]).errors = [message]
        return False

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            self.parts_in_error = ["dob_day", "dob_month", "dob_year"]
            for name in self.parts_in_error[1:]:
                getattr(self, name).errors = []
            if not self.dob_day.errors:
                self.dob_day.errors = ["Date of birth must be a real date"]
            return False
        return self.read_date()

    def read_date(self) -> bool:
        """Read the three boxes into `date_of_birth`; False with one message if they fail."""
        typed = {part: getattr(self, f"dob_{part}").data or "" for part in DATE_PARTS}
        try:
            born = read_date_parts(typed, noun="Date of birth", max_length=DATE_PART_MAX)
        except DatePartsError as error:
            return self._fail(error.message, [f"dob_{part}" for part in error.parts])
        if born is None:
            return self._fail("Enter your date of birth", ["dob_day", "dob_month", "dob_year"])
        if born >= self.today:
            return self._fail(
                "Date of birth must be in the past", ["dob_day", "dob_month", "dob_year"]
            )
        if born.year < 1900:
            return self._fail("Date of birth must be after 1900", ["dob_year"])
        self.date_of_birth = born
        return True


class ContactForm(EmailFormMixin, FlaskForm):
    email = email_field()
    phone = StringField(
        "Mobile phone number",
        widget=GovTextInput(),
        validators=[
            Present("Enter your mobile phone number"),
            Length(max=PHONE_MAX, message="Mobile phone number must be 30 characters or fewer"),
        ],
    )
    submit = continue_button()

    def __init__(self, *args: Any, region: str = "GB", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region = region
        self.e164 = ""

    def validate_phone(self, field: StringField) -> None:
        try:
            self.e164 = parse_phone(field.data, self.region)
        except InvalidInput as error:
            raise ValidationError(error.message) from error


class HoldForm(FlaskForm):
    next = HiddenField(validators=[Length(max=500)])
    submit = SubmitField("Hold it for 10 more minutes", widget=GovSubmitInput())


class BookForm(FlaskForm):
    submit = SubmitField("Book session", widget=GovSubmitInput())


class ChangeForm(FlaskForm):
    start = HiddenField(validators=[Length(max=40)])
    submit = SubmitField("Change session", widget=GovSubmitInput())


class CancelForm(FlaskForm):
    submit = SubmitField("Cancel session", widget=GovSubmitInput())
