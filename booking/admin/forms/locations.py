"""A location: its address, phone, time zone and the policies it overrides."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length

from booking.admin.forms.policies import STEP_CHOICES
from booking.domain.phones import PHONE_MAX
from booking.forms import FlaskForm, Present
from booking.forms.fields import (
    YES_NO,
    RadioInput,
    WholeNumberField,
    choices,
    is_yes,
    name_field,
    radios,
    text_of,
)
from booking.services.clinic.locations import LocationValues


class LocationForm(FlaskForm):
    name = name_field()
    address = TextAreaField(
        "Address",
        widget=GovTextArea(),
        validators=[
            Present("Enter the address"),
            Length(max=500, message="Address must be 500 characters or fewer"),
        ],
    )
    phone = StringField(
        "Phone number",
        widget=GovTextInput(),
        description="Patients see it when they need to phone, for example to cancel late.",
        validators=[
            Present("Enter a phone number"),
            Length(max=PHONE_MAX, message=f"Phone number must be {PHONE_MAX} characters or fewer"),
        ],
    )
    country_code = StringField(
        "Country code",
        widget=GovTextInput(),
        description="Two letters, like GB or IE. Phone numbers are read in this country.",
        validators=[
            Present("Enter a two-letter country code, like GB or IE"),
            Length(max=2, message="Enter a two-letter country code, like GB or IE"),
        ],
    )
    subdivision = StringField(
        "Region for public holidays (optional)",
        widget=GovTextInput(),
        description="Like GB-ENG for England or GB-SCT for Scotland. Leave it empty to use "
        "the whole country's public holidays, as in Ireland. They close this location unless "
        "you open them.",
        validators=[Length(max=6, message="Enter a region, like GB-ENG, or leave it empty")],
    )
    timezone = StringField(
        "Time zone",
        widget=GovTextInput(),
        description="A name from the IANA list, like Europe/London or Europe/Dublin. "
        "Patients see times in this zone.",
        validators=[
            Present("Enter a time zone, like Europe/London"),
            Length(max=64, message="Enter a time zone from the IANA list, like Europe/London"),
        ],
    )
    min_notice_minutes = WholeNumberField(
        "Minimum notice (optional)", limit="min_notice_minutes", example=120
    )
    max_advance_days = WholeNumberField(
        "How far ahead patients can book (optional)", limit="max_advance_days", example=90
    )
    slot_step_minutes = radios(
        "How often can sessions start?",
        [],
        "Select how often sessions can start",
        empty_choice=True,
    )
    cancellation_cutoff_hours = WholeNumberField(
        "Cancellation cut-off (optional)", limit="cancellation_cutoff_hours", example=24
    )
    # No answer keeps the clinic's setting, so older forms and API-less imports still save.
    reminder_24h = RadioField(
        "Email a reminder 24 hours before each session?",
        choices=[],
        widget=RadioInput(),
        validate_choice=False,
    )
    reminder_2h = RadioField(
        "Also email a reminder 2 hours before?",
        choices=[],
        widget=RadioInput(),
        validate_choice=False,
    )
    is_active = radios(
        "Can patients book at this location?", YES_NO, "Select yes if patients can book here"
    )
    submit = SubmitField("Save location", widget=GovSubmitInput())

    def __init__(
        self,
        *args: Any,
        clinic_step: int,
        clinic_reminders: tuple[bool, bool] = (True, False),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.slot_step_minutes.choices = choices(
            [("", f"Use the clinic's setting (every {clinic_step} minutes)"), *STEP_CHOICES]
        )
        for field, clinic_value in zip(
            (self.reminder_24h, self.reminder_2h), clinic_reminders, strict=True
        ):
            word = "yes" if clinic_value else "no"
            field.choices = choices([("", f"Use the clinic's setting ({word})"), *YES_NO])

    def values(self) -> LocationValues:
        step = self.slot_step_minutes.data
        return LocationValues(
            name=text_of(self.name),
            address=text_of(self.address),
            phone=text_of(self.phone),
            timezone=text_of(self.timezone),
            country_code=text_of(self.country_code),
            subdivision=text_of(self.subdivision),
            is_active=is_yes(self.is_active),
            min_notice_minutes=self.min_notice_minutes.data,
            max_advance_days=self.max_advance_days.data,
            slot_step_minutes=int(step) if step else None,
            cancellation_cutoff_hours=self.cancellation_cutoff_hours.data,
            reminder_24h=_override(self.reminder_24h.data),
            reminder_2h=_override(self.reminder_2h.data),
        )


def _override(answer: str | None) -> bool | None:
    """ "yes"/"no" override the clinic's reminder setting; anything else inherits it."""
    return {"yes": True, "no": False}.get(answer or "")
