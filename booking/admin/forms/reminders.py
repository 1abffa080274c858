"""Reminder settings: which reminders go, and whether they may name the session type."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField

from booking.forms import FlaskForm
from booking.forms.fields import radios
from booking.services.reminders.settings import ReminderValues

YES_NO = [("yes", "Yes"), ("no", "No")]


class ReminderForm(FlaskForm):
    reminder_24h = radios(
        "Email a reminder 24 hours before each session?",
        YES_NO,
        "Select yes if patients get a reminder 24 hours before",
    )
    reminder_2h = radios(
        "Also email a reminder 2 hours before?",
        YES_NO,
        "Select yes if patients also get a reminder 2 hours before",
    )
    intake_reminder_auto = radios(
        "Remind first-time patients to answer the health questions?",
        YES_NO,
        "Select yes if first-time patients get a reminder to answer the health questions",
    )
    reminder_details = radios(
        "Name the session type in reminders?",
        YES_NO,
        "Select yes if reminders name the session type",
    )
    submit = SubmitField("Save reminder settings", widget=GovSubmitInput())

    def values(self) -> ReminderValues:
        return ReminderValues(
            reminder_24h=self.reminder_24h.data == "yes",
            reminder_2h=self.reminder_2h.data == "yes",
            intake_reminder_auto=self.intake_reminder_auto.data == "yes",
            reminder_details=self.reminder_details.data == "yes",
        )
