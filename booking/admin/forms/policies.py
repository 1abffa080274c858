"""Booking policies: the clinic-wide notice, horizon, slot step and cancellation rules."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField

from booking.forms import FlaskForm
from booking.forms.fields import WholeNumberField, radios, validated
from booking.models.clinic import SLOT_STEPS
from booking.services.clinic.policies import PolicyValues

STEP_CHOICES = [(str(step), f"Every {step} minutes") for step in SLOT_STEPS]


class PolicyForm(FlaskForm):
    min_notice_minutes = WholeNumberField(
        "Minimum notice",
        limit="min_notice_minutes",
        example=120,
        blank="Enter the minimum notice in minutes",
        description="How soon before a session patients can still book it online. "
        "Staff can book later than this.",
    )
    max_advance_days = WholeNumberField(
        "How far ahead patients can book",
        limit="max_advance_days",
        example=90,
        blank="Enter how far ahead patients can book, in days",
        description="The last day patients can choose, counted from today.",
    )
    slot_step_minutes = radios(
        "How often can sessions start?", STEP_CHOICES, "Select how often sessions can start"
    )
    cancellation_cutoff_hours = WholeNumberField(
        "Cancellation cut-off",
        limit="cancellation_cutoff_hours",
        example=24,
        blank="Enter the cancellation cut-off in hours",
        description="Patients can change or cancel online until this many hours before "
        "their session.",
    )
    late_cancel_mode = radios(
        "What happens if a patient wants to cancel inside the cut-off?",
        [
            ("call", "They are asked to phone the location"),
            ("record", "They can cancel online, and it is recorded as late"),
        ],
        "Select what happens inside the cut-off",
    )
    missed_threshold = WholeNumberField(
        "Missed sessions before a patient must phone to book",
        limit="missed_threshold",
        example=3,
        blank="Enter the number of missed sessions",
        description="Late cancellations and no-shows in the last 12 months.",
    )
    submit = SubmitField("Save booking policies", widget=GovSubmitInput())

    def values(self) -> PolicyValues:
        return PolicyValues(
            min_notice_minutes=validated(self.min_notice_minutes.data),
            max_advance_days=validated(self.max_advance_days.data),
            slot_step_minutes=int(self.slot_step_minutes.data),
            cancellation_cutoff_hours=validated(self.cancellation_cutoff_hours.data),
            late_cancel_mode=self.late_cancel_mode.data,
            missed_threshold=validated(self.missed_threshold.data),
        )
