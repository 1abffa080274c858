"""The front desk's forms: find a patient, create one, book on their behalf, cancel."""

from __future__ import annotations

from datetime import date
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovSubmitInput,
    GovTextInput,
)
from wtforms import EmailField, StringField, SubmitField
from wtforms.validators import Length, ValidationError

from booking.domain.errors import InvalidInput
from booking.forms import FlaskForm, Present
from booking.forms.fields import DatePartsField, radios
from booking.services.patients.search import phone_e164
from booking.services.platform.emails import check_email_format

NAME_MAX = 100
EMAIL_MAX = 254
PHONE_MAX = 30
REASON_MAX = 200
PHONE_FORMAT = "Enter a phone number, like 07700 900 982 or +44 7700 900 982"
CONTACT_CHOICES = [("email", "Email"), ("phone", "Phone")]


class SearchForm(FlaskForm):
    """The search box (GET: no CSRF token, nothing changes)."""

    class Meta:
        csrf = False

    q = StringField(
        "Name, date of birth, email or phone",
        widget=GovTextInput(),
        description="For example, Sam Okafor, 12/03/1980, sam@example.org or 07700 900982",
        validators=[Length(max=200, message="Search must be 200 characters or fewer")],
    )
    submit = SubmitField("Search", widget=GovSubmitInput())


def _name(label: str, message: str) -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        validators=[
            Present(message),
            Length(max=NAME_MAX, message=f"{label} must be {NAME_MAX} characters or fewer"),
        ],
    )


class PatientForm(FlaskForm):
    given_name = _name("First name", "Enter their first name")
    family_name = _name("Last name", "Enter their last name")
    date_of_birth = DatePartsField(
        "Date of birth", noun="Date of birth", blank="Enter their date of birth"
    )
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            Present("Enter their email address"),
            Length(max=EMAIL_MAX, message="Email address must be 254 characters or fewer"),
        ],
    )
    phone = StringField(
        "Phone number (optional)",
        widget=GovTextInput(),
        validators=[
            Length(max=PHONE_MAX, message="Phone number must be 30 characters or fewer"),
        ],
    )
    contact_preference = radios(
        "How should we contact them?", CONTACT_CHOICES, "Select how we should contact them"
    )
    submit = SubmitField("Create patient", widget=GovSubmitInput())

    def __init__(self, *args: Any, region: str = "GB", today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region = region
        self.today = today
        self.e164: str | None = None
        self.normalised_email = ""

    def validate_date_of_birth(self, field: DatePartsField) -> None:
        if field.data is not None and field.data >= self.today:
            raise ValidationError("Date of birth must be in the past")
        if field.data is not None and field.data.year < 1900:
            raise ValidationError("Date of birth must be after 1900")

    def validate_email(self, field: EmailField) -> None:
        try:
            self.normalised_email = check_email_format(field.data)
        except InvalidInput as error:
            raise ValidationError(error.message) from error

    def validate_phone(self, field: StringField) -> None:
        text = (field.data or "").strip()
        if not text:
            if self.contact_preference.data == "phone":
                raise ValidationError("Enter a phone number to contact them by phone")
            return
        self.e164 = phone_e164(text, self.region)
        if self.e164 is None:
            raise ValidationError(PHONE_FORMAT)


class ChangeTimeForm(FlaskForm):
    start = radios("Choose a new time", [], "Select a new time")
    reason = StringField(
        "Why are the notice or horizon overridden?",
        widget=GovTextInput(),
        validators=[Length(max=REASON_MAX, message="Reason must be 200 characters or fewer")],
    )
    submit = SubmitField("Move session", widget=GovSubmitInput())


def _score_field(label: str) -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        validators=[Length(max=2, message=f"{label}: enter a whole number from 0 to 10")],
    )


class DeskScoresForm(FlaskForm):
    """Scores a patient gives at the desk: pain 0-10 uses the first box, PEG-3 all three."""

    item1 = _score_field("Pain")
    item2 = _score_field("Pain and enjoying life")
    item3 = _score_field("Pain and usual activities")
    submit = SubmitField("Record scores", widget=GovSubmitInput())

    def __init__(self, *args: Any, items: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wanted = [self.item1, self.item2, self.item3][:items]
        self.scores: list[int] = []

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        self.scores = []
        for field in self.wanted:
            raw = (field.data or "").strip()
            if not raw.isdigit() or int(raw) > 10:
                if not field.errors:
                    field.errors = [f"{field.label.text}: enter a whole number from 0 to 10"]
                ok = False
            else:
                self.scores.append(int(raw))
        return ok
