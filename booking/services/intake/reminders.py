"""Reminding a patient by email to finish their health questions."""

from __future__ import annotations

from datetime import datetime, timedelta

from booking.domain.errors import NotFound, PolicyRefused
from booking.mail import render_email
from booking.models import Appointment, AppointmentStatus, IntakeResponse, IntakeStatus, User
from booking.services.intake.answers import start_intake
from booking.services.intake.links import link_token
from booking.services.platform import outbox
from booking.services.platform.audit import record_event

REMINDER_GAP = timedelta(hours=24)


def intake_link(appointment: Appointment, *, secret: str, base_url: str) -> str:
    """The emailed link to a session's health questions (the account's list without a token)."""
    token = link_token(appointment, secret=secret)
    if token:
        return f"{base_url.rstrip('/')}/intake/start/{appointment.id}/{token}"
    return f"{base_url.rstrip('/')}/intake/"


def send_reminder(
    appointment: Appointment,
    *,
    actor: User,
    now: datetime,
    secret: str,
    base_url: str,
    clinic_name: str,
) -> IntakeResponse:
    """Email the patient a link to finish their health questions (through the outbox).

    Raises PolicyRefused when answers were already sent or a reminder went in the last day,
    NotFound for a session that is not upcoming.
    """
    if appointment.status != AppointmentStatus.booked or appointment.starts_at <= now:
        raise NotFound("That session is not coming up.")
    intake = start_intake(appointment, now=now, actor=actor)
    if intake.status != IntakeStatus.draft:
        raise PolicyRefused("This patient has already sent their answers.")
    if intake.reminded_at is not None and now - intake.reminded_at < REMINDER_GAP:
        raise PolicyRefused("A reminder was sent in the last 24 hours.")
    patient = appointment.patient
    if patient is None:  # only holds have none, and this session is booked
        raise NotFound("That session is not coming up.")
    body = render_email(
        "intake_reminder",
        given_name=patient.given_name,
        start=appointment.starts_at.astimezone(appointment.location.zone),
        link=intake_link(appointment, secret=secret, base_url=base_url),
        clinic_name=clinic_name,
        unsubscribe_url=None,  # asked for by reception: not an automatic reminder
    )
    outbox.enqueue(
        kind="intake.reminder",
        recipient=patient.email,
        patient_id=patient.id,
        subject=f"Health questions before your session – {clinic_name}",
        body_text=body,
        dedupe_key=f"intake-reminder:{intake.id}:{int(now.timestamp())}",
        now=now,
    )
    intake.reminded_at = now
    record_event(
        "intake.remind",
        actor=actor,
        now=now,
        object_type="intake",
        object_id=intake.id,
        patient_id=intake.patient_id,
    )
    return intake
