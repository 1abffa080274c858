"""Planning the post-treatment check-in: once per first session, 24 to 48 hours after it.

`send-outbox` (and so the worker) calls `plan_checkins` before sending. The check-in row is
unique per appointment and the outbox key per appointment, so repeated or concurrent runs
queue one email; each insert runs in a savepoint and a duplicate is skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from booking.extensions import db
from booking.mail import gettext, render_email
from booking.models import AftercareCheckin, Appointment, AppointmentStatus, PatientProfile
from booking.services.platform import outbox
from booking.services.platform.tokens import new_token, token_hash

AFTER = timedelta(hours=24)  # sent from a day after the session ended ...
UNTIL = timedelta(hours=48)  # ... and not once two days have passed (a late run skips it)
LINK_DAYS = 14  # the report link works this long
ATTENDED = (AppointmentStatus.booked, AppointmentStatus.checked_in, AppointmentStatus.completed)


def due_first_sessions(*, now: datetime) -> list[Appointment]:
    """First sessions that ended 24 to 48 hours ago and have no check-in yet."""
    return list(
        db.session.scalars(
            select(Appointment)
            .join(PatientProfile, PatientProfile.id == Appointment.patient_id)
            .outerjoin(AftercareCheckin, AftercareCheckin.appointment_id == Appointment.id)
            .where(
                Appointment.is_first_visit.is_(True),
                Appointment.status.in_(ATTENDED),
                Appointment.ends_at <= now - AFTER,
                Appointment.ends_at > now - UNTIL,
                AftercareCheckin.id.is_(None),
                PatientProfile.opted_out.is_(False),
            )
            .options(
                selectinload(Appointment.patient),
                selectinload(Appointment.location),
            )
            .order_by(Appointment.ends_at, Appointment.id)
        )
    )


def plan_checkins(*, now: datetime, base_url: str, clinic_name: str) -> int:
    """Queue the "how are you feeling?" email for each due first session; the number queued."""
    queued = 0
    for appointment in due_first_sessions(now=now):
        token = new_token()
        savepoint = db.session.begin_nested()
        try:
            checkin = AftercareCheckin(
                appointment_id=appointment.id,
                token_hash=token_hash(token),
                expires_at=now + timedelta(days=LINK_DAYS),
                created_at=now,
            )
            db.session.add(checkin)
            _queue(appointment, token, now=now, base_url=base_url, clinic_name=clinic_name)
            db.session.flush()
        except IntegrityError:  # another sender planned it first
            savepoint.rollback()
            continue
        savepoint.commit()
        queued += 1
    return queued


def _queue(
    appointment: Appointment, token: str, *, now: datetime, base_url: str, clinic_name: str
) -> None:
    patient = appointment.patient
    if patient is None:  # pragma: no cover - joined on the patient above
        return
    location = appointment.location
    outbox.enqueue(
        kind="aftercare.checkin",
        recipient=patient.email,
        subject=gettext("How are you feeling? – %(clinic)s") % {"clinic": clinic_name},
        body_text=render_email(
            "checkin",
            given_name=patient.given_name,
            start=appointment.starts_at.astimezone(location.zone),
            link=f"{base_url.rstrip('/')}/aftercare/{token}",
            phone=location.phone,
            clinic_name=clinic_name,
        ),
        dedupe_key=f"aftercare-checkin:{appointment.id}",
        now=now,
    )
