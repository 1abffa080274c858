"""The waitlist forms: joining (patient and reception) and the offer's one button."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import Length

from booking.book.forms import EmailFormMixin, NameForm, email_field
from booking.domain.waitlist import DAY_PART_LABELS, WEEKDAY_NAMES
from booking.forms import FlaskForm, Present
from booking.forms.fields import checkboxes, choices, radios
from booking.services.clinic.locations import location_choices
from booking.services.clinic.practitioners import practitioner_choices
from booking.services.clinic.session_types import session_type_choices

ANY = "any"


class WaitlistForm(FlaskForm):
    session_type = radios("What kind of session?", [], "Select a kind of session")
    location = radios("Where?", [], "Select a place")
    practitioner = radios(
        "Who would you like to see?", [], "Select a practitioner, or any practitioner"
    )
    weekdays = checkboxes("Which days suit you? (optional)", "Select days from the list")
    day_parts = checkboxes("What times of day suit you? (optional)", "Select times from the list")
    submit = SubmitField("Join the waitlist", widget=GovSubmitInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session_type.choices = choices([(str(i), n) for i, n in session_type_choices()])
        self.location.choices = choices([(str(i), n) for i, n in location_choices()])
        self.practitioner.choices = choices(
            [(ANY, "Any practitioner"), *((str(i), n) for i, n in practitioner_choices())]
        )
        self.weekdays.choices = choices([(str(i), n) for i, n in enumerate(WEEKDAY_NAMES)])
        self.day_parts.choices = choices(list(DAY_PART_LABELS.items()))

    def prefill(self, args: Any) -> None:
        """Answers carried from the booking journey's "no times" page (GET arguments)."""
        for name in ("session_type", "location", "practitioner"):
            field = getattr(self, name)
            value = args.get(name)
            if value and value in {c.value for c in field.choices}:
                field.data = value

    def values(self) -> dict[str, Any]:
        practitioner = self.practitioner.data
        return {
            "session_type_id": int(self.session_type.data),
            "location_id": int(self.location.data),
            "practitioner_id": None if practitioner == ANY else int(practitioner),
            "weekdays": [int(d) for d in self.weekdays.data or []],
            "day_parts": list(self.day_parts.data or []),
        }


class ReceptionWaitlistForm(WaitlistForm):
    """Reception adds a patient found by email address and first name."""

    email = StringField(
        "Patient's email address",
        widget=GovTextInput(),
        validators=[
            Present("Enter the patient's email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
        ],
    )
    given_name = StringField(
        "Patient's first name",
        widget=GovTextInput(),
        validators=[
            Present("Enter the patient's first name"),
            Length(max=100, message="First name must be 100 characters or fewer"),
        ],
    )
    submit = SubmitField("Add to the waitlist", widget=GovSubmitInput())


class GuestWaitlistForm(EmailFormMixin, WaitlistForm):
    """Someone without an account joins from the booking journey's "no times" page."""

    given_name = NameForm.given_name
    family_name = NameForm.family_name
    email = email_field()
