"""The patient's booking emails, queued in the caller's transaction (words from booking.mail).

Confirmation, change and cancellation with the calendar file; fresh manage links; the link
back into a booking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking.domain.phones import format_national
from booking.mail import render_email
from booking.models import Appointment, Clinic, User
from booking.services.booking.calendar import appointment_ics
from booking.services.booking.cutoff import change_sentences
from booking.services.booking.drafts import FIND_YOU, create_email_link
from booking.services.booking.manage_links import add_manage_link
from booking.services.booking.patients import upcoming_for_email
from booking.services.intake.links import first_visit_intake
from booking.services.plans.sequence import sequence_of
from booking.services.platform import outbox
from booking.services.platform.audit import record_event
from booking.services.platform.emails import normalise_email
from booking.services.platform.tokens import new_token, token_hash

SUBJECTS = {
    "confirmation": "Your session is booked",
    "change": "Your session has changed",
    "cancellation": "Your session is cancelled",
}


@dataclass(frozen=True)
class PatientEmail:
    """A patient's email about one appointment, written but not yet queued."""

    kind: str
    recipient: str
    patient_id: int
    subject: str
    body_text: str
    ics: str
    ics_method: str


def compose_patient_email(
    appointment: Appointment,
    *,
    kind: str,
    manage_token: str | None,
    base_url: str,
    clinic_name: str,
    now: datetime,
    secret: str = "",
    fresh: bool = False,
    clinic: Clinic | None = None,
) -> PatientEmail | None:
    """The patient's email; only time, place, practitioner and session type (None: no patient).

    A first visit's email also says whether the health questions are sent, with the guest
    link to them when `secret` (the app's SECRET_KEY) is given. `fresh` marks a booking
    not yet in the database or just inserted by this transaction: it is in no plan and has
    no health answers yet, so neither is looked up (without `secret` its id is not needed,
    so it may be composed before its insert, from a row whose relationships are set).
    `clinic`: the clinic's row, when the caller has read it already.
    """
    patient = appointment.patient
    if patient is None:
        return None
    location = appointment.location
    body = render_email(
        "appointment",
        kind=kind,
        given_name=patient.given_name,
        session_type=appointment.session_type.name,
        start=appointment.starts_at.astimezone(location.zone),
        practitioner=appointment.practitioner.display_name,
        place=location.name,
        address=location.address,
        phone=format_national(location.phone, location.country_code),
        manage_url=f"{base_url.rstrip('/')}/manage/{manage_token}" if manage_token else None,
        change_sentences=()
        if kind == "cancellation"
        else change_sentences(appointment, now=now, clinic=clinic),
        sequence=None
        if kind == "cancellation" or fresh
        else sequence_of([appointment.id]).get(appointment.id),
        intake=None
        if kind == "cancellation"
        else first_visit_intake(appointment, base_url=base_url, secret=secret, fresh=fresh),
        clinic_name=clinic_name,
    )
    method = "CANCEL" if kind == "cancellation" else "REQUEST"
    return PatientEmail(
        kind=kind,
        recipient=patient.email,
        patient_id=patient.id,
        subject=f"{SUBJECTS[kind]} – {clinic_name}",
        body_text=body,
        ics=appointment_ics(appointment, clinic_name=clinic_name, method=method, now=now),
        ics_method=method,
    )


def enqueue_patient_email(
    email: PatientEmail, appointment: Appointment, *, now: datetime, dedupe_key: str | None = None
) -> None:
    """Queue a composed email of `appointment` (inserted by now: its id names the message)."""
    outbox.insert_message(
        kind=f"appointment.{email.kind}",
        recipient=email.recipient,
        patient_id=email.patient_id,
        subject=email.subject,
        body_text=email.body_text,
        dedupe_key=dedupe_key
        or f"appointment:{appointment.id}:{email.kind}:{appointment.ics_sequence}",
        now=now,
        ics=email.ics,
        ics_method=email.ics_method,
    )


def queue_patient_email(
    appointment: Appointment,
    *,
    kind: str,
    manage_token: str | None,
    base_url: str,
    clinic_name: str,
    now: datetime,
    secret: str = "",
    dedupe_key: str | None = None,
    fresh: bool = False,
) -> None:
    """Queue the patient's email (`compose_patient_email`); `dedupe_key` names a deliberate
    repeat (a confirmation resent from the desk)."""
    email = compose_patient_email(
        appointment,
        kind=kind,
        manage_token=manage_token,
        base_url=base_url,
        clinic_name=clinic_name,
        now=now,
        secret=secret,
        fresh=fresh,
    )
    if email is not None:
        enqueue_patient_email(email, appointment, now=now, dedupe_key=dedupe_key)


def record_booking(
    appointment: Appointment,
    *,
    manage_token: str,
    actor: User | None,
    now: datetime,
    base_url: str,
    clinic_name: str,
    detail: str | None = None,
    secret: str = "",
    composed: PatientEmail | None = None,
) -> None:
    """Queue the confirmation (with its manage link) and add the `appointment.book` audit row.

    The one tail of every booking, made online from a hold or directly through the API;
    `composed`: the confirmation, already composed (`compose_patient_email`) for this row.
    """
    if composed is not None:
        enqueue_patient_email(composed, appointment, now=now)
    else:
        queue_patient_email(
            appointment,
            kind="confirmation",
            manage_token=manage_token,
            base_url=base_url,
            clinic_name=clinic_name,
            now=now,
            secret=secret,
        )
    record_event(
        "appointment.book",
        actor=actor,
        now=now,
        object_type="appointment",
        object_id=appointment.id,
        patient_id=appointment.patient_id,
        detail=detail,
    )


def send_find_you_link(
    email: str, *, draft_key_hash: str, base_url: str, clinic_name: str, now: datetime
) -> None:
    """Email a 20-minute, single-use link back into this booking, known address or not."""
    token = create_email_link(
        purpose=FIND_YOU, email=normalise_email(email), draft_key_hash=draft_key_hash, now=now
    )
    outbox.enqueue(
        kind="booking.find_you",
        recipient=email.strip(),
        subject=f"Carry on booking – {clinic_name}",
        body_text=render_email(
            "find_you",
            link=f"{base_url.rstrip('/')}/book/find-you/{token}",
            clinic_name=clinic_name,
        ),
        dedupe_key=f"find-you:{token_hash(token)}",
        now=now,
    )


def send_manage_links(email: str, *, base_url: str, clinic_name: str, now: datetime) -> int:
    """Email a fresh manage link for each upcoming session of this address.

    The link in use keeps working until the new one is first used (`by_manage_token`):
    anyone may ask, so asking alone must not stop a patient's link. Sends nothing for an
    unknown address (the page says the same either way).
    """
    sent = 0
    for appointment in upcoming_for_email(email, now=now):
        patient = appointment.patient
        if patient is None:  # found through its patient's email: never a hold
            continue
        token = new_token()
        add_manage_link(appointment, token, now=now)
        outbox.enqueue(
            kind="appointment.manage_link",
            recipient=patient.email,
            patient_id=patient.id,
            subject=f"Your link to change or cancel – {clinic_name}",
            body_text=render_email(
                "manage_link",
                given_name=patient.given_name,
                session_type=appointment.session_type.name,
                start=appointment.starts_at.astimezone(appointment.location.zone),
                link=f"{base_url.rstrip('/')}/manage/{token}",
                # No intake link here: it follows the manage link in use, which this new
                # one replaces on first use. The page it opens links to the questions.
                intake=first_visit_intake(appointment, base_url=base_url, secret=""),
                clinic_name=clinic_name,
            ),
            dedupe_key=f"manage-link:{appointment.id}:{token_hash(token)[:32]}",
            now=now,
        )
        sent += 1
    return sent
