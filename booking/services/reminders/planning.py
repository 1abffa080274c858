"""Planning reminders: which sessions are due one now, written to the outbox exactly once.

Each pass (`send-outbox`, every `worker` minute) looks at booked sessions starting in the next
48 hours and writes the reminders now due: 24 hours before (and 2 hours before when the
clinic or the location asks), and for a first visit whose health questions are unanswered,
one intake reminder 48 hours before. Due instants come from the session's UTC start, so
they are right across clock changes; the email shows the start in the location's zone.

Exactly once: a row's key is (session, kind, start), unique in the database, and rows are
inserted with ON CONFLICT DO NOTHING, so planners racing on several machines write one. A
session that moves has a new start and so gets a new reminder; the sender drops the old
one (`outbox.stale_reason`). A session booked after a reminder's due instant gets none.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import false, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from booking.extensions import db
from booking.mail import render_email
from booking.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    IntakeResponse,
    IntakeStatus,
    Location,
    OutboxMessage,
    OutboxStatus,
    PatientProfile,
)
from booking.models.patient import ContactPreference
from booking.services.clinic.settings import get_clinic
from booking.services.intake.reminders import REMINDER_GAP, intake_link
from booking.services.plans.sequence import sequence_of
from booking.services.platform.outbox import INTAKE_REMINDER_KIND
from booking.services.reminders.unsubscribe import unsubscribe_url

KIND_24H = "reminder.24h"
KIND_2H = "reminder.2h"
LEADS = {
    KIND_24H: timedelta(hours=24),
    KIND_2H: timedelta(hours=2),
    INTAKE_REMINDER_KIND: timedelta(hours=48),
}
HORIZON = max(LEADS.values())
CHUNK = 500


@dataclass(frozen=True)
class MailSettings:
    """What every planned email needs from the app's configuration."""

    base_url: str
    secret: str
    clinic_name: str


def plan_reminders(*, now: datetime, settings: MailSettings) -> int:
    """Write every reminder due at `now` that is not in the outbox yet; return how many.

    Never for a session that is not booked (cancelled, missed, held, done) or has begun,
    for a patient who opted out or prefers a phone call, or for one booked after the due
    instant. Flushes nothing of the ORM: rows go in with one INSERT per chunk.
    """
    clinic = get_clinic()
    if clinic is None:
        return 0
    # First the bare columns of the window's sessions (cheap), then whole rows only for the
    # few that need a reminder written now: most passes write none.
    wanted = _wanted(clinic, now=now)
    if not wanted:
        return 0
    sessions = db.session.scalars(
        select(Appointment)
        .options(
            joinedload(Appointment.patient),
            joinedload(Appointment.location),
            joinedload(Appointment.practitioner),
            joinedload(Appointment.session_type),
        )
        .where(Appointment.id.in_(list(wanted)))
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    # "Session k of N" only with the clinic's reminder details on (like the session type).
    sequences: dict[int, tuple[int, int, int]] = {}
    if clinic.reminder_details:
        for chunk in _chunks([s.id for s in sessions]):
            sequences.update(sequence_of(chunk))
    rows: list[dict[str, Any]] = []
    for session in sessions:
        patient = session.patient
        if patient is None or patient.opted_out:
            continue
        if patient.contact_preference != ContactPreference.email:
            continue
        for kind in wanted[session.id]:
            rows.append(
                _row(
                    session,
                    patient,
                    kind,
                    clinic=clinic,
                    now=now,
                    settings=settings,
                    sequence=sequences.get(session.id),
                )
            )
    inserted = 0
    for chunk in _chunks(rows):
        inserted += len(db.session.scalars(_insert_ignoring_duplicates(chunk)).all())
    return inserted


def _wanted(clinic: Clinic, *, now: datetime) -> dict[int, list[str]]:
    """The kinds of reminder each session in the window needs written now, by session id."""
    overrides = {
        location_id: (reminder_24h, reminder_2h)
        for location_id, reminder_24h, reminder_2h in db.session.execute(
            select(Location.id, Location.reminder_24h, Location.reminder_2h)
        )
    }
    candidates = db.session.execute(
        select(
            Appointment.id,
            Appointment.starts_at,
            Appointment.booked_at,
            Appointment.location_id,
            Appointment.is_first_visit,
        ).where(
            Appointment.status == AppointmentStatus.booked,
            Appointment.starts_at > now,
            Appointment.starts_at <= now + HORIZON,
            # Only first visits can be due anything more than a day ahead (the intake one).
            or_(
                Appointment.starts_at <= now + LEADS[KIND_24H],
                Appointment.is_first_visit.is_(True) if clinic.intake_reminder_auto else false(),
            ),
        )
    ).all()
    due: list[tuple[int, str, datetime]] = []
    for appointment_id, starts_at, booked_at, location_id, first_visit in candidates:
        own_24h, own_2h = overrides.get(location_id, (None, None))
        kinds = [
            kind
            for kind, own, default in (
                (KIND_24H, own_24h, clinic.reminder_24h),
                (KIND_2H, own_2h, clinic.reminder_2h),
            )
            if (default if own is None else own)
        ]
        if clinic.intake_reminder_auto and first_visit:
            kinds.append(INTAKE_REMINDER_KIND)
        for kind in kinds:
            due_at = starts_at - LEADS[kind]
            if due_at <= now and (booked_at is None or booked_at <= due_at):
                due.append((appointment_id, kind, starts_at))
    if not due:
        return {}
    planned, intake_planned = _planned({key[0] for key in due})
    intake_due = [key[0] for key in due if key[1] == INTAKE_REMINDER_KIND]
    answered = _answered_or_recently_reminded(intake_due, now=now) if intake_due else set()
    wanted: dict[int, list[str]] = {}
    for key in due:
        appointment_id, kind, _starts_at = key
        if key in planned:
            continue
        if kind == INTAKE_REMINDER_KIND and (
            appointment_id in intake_planned or appointment_id in answered
        ):
            continue  # once per session (even if it moved since), and only if unanswered
        wanted.setdefault(appointment_id, []).append(kind)
    return wanted


def _planned(ids: Iterable[int]) -> tuple[set[tuple[int, str, datetime]], set[int]]:
    """Reminders already written for these sessions, and the sessions with an intake one."""
    keys: set[tuple[int, str, datetime]] = set()
    intake: set[int] = set()
    for chunk in _chunks(list(ids)):
        for appointment_id, kind, starts_at in db.session.execute(
            select(
                OutboxMessage.appointment_id,
                OutboxMessage.kind,
                OutboxMessage.appointment_starts_at,
            ).where(
                OutboxMessage.appointment_id.in_(chunk),
                OutboxMessage.kind.in_(tuple(LEADS)),
            )
        ):
            if appointment_id is None or starts_at is None:  # excluded by the query
                continue
            keys.add((appointment_id, kind, starts_at))
            if kind == INTAKE_REMINDER_KIND:
                intake.add(appointment_id)
    return keys, intake


def _answered_or_recently_reminded(ids: list[int], *, now: datetime) -> set[int]:
    """First visits needing no intake reminder: answers sent, or reception reminded today."""
    skip: set[int] = set()
    for chunk in _chunks(ids):
        for appointment_id, status, reminded_at in db.session.execute(
            select(
                IntakeResponse.appointment_id, IntakeResponse.status, IntakeResponse.reminded_at
            ).where(IntakeResponse.appointment_id.in_(chunk))
        ):
            if appointment_id is None:  # excluded by the query
                continue
            recently = reminded_at is not None and now - reminded_at < REMINDER_GAP
            if status != IntakeStatus.draft or recently:
                skip.add(appointment_id)
    return skip


def _row(
    session: Appointment,
    patient: PatientProfile,
    kind: str,
    *,
    clinic: Clinic,
    now: datetime,
    settings: MailSettings,
    sequence: tuple[int, int, int] | None = None,
) -> dict[str, Any]:
    location = session.location
    start = session.starts_at.astimezone(location.zone)
    unsubscribe = unsubscribe_url(patient.id, secret=settings.secret, base_url=settings.base_url)
    if kind == INTAKE_REMINDER_KIND:
        subject = f"Health questions before your session – {settings.clinic_name}"
        body = render_email(
            "intake_reminder",
            given_name=patient.given_name,
            start=start,
            link=intake_link(session, secret=settings.secret, base_url=settings.base_url),
            clinic_name=settings.clinic_name,
            unsubscribe_url=unsubscribe,
        )
    else:
        subject = f"Reminder: your session on {start:%-d %B} – {settings.clinic_name}"
        body = render_email(
            "reminder",
            lead="24h" if kind == KIND_24H else "2h",
            given_name=patient.given_name,
            session_type=session.session_type.name if clinic.reminder_details else None,
            sequence=sequence,
            start=start,
            place=location.name,
            address=location.address,
            phone=location.phone,
            practitioner=session.practitioner.display_name,
            clinic_name=settings.clinic_name,
            unsubscribe_url=unsubscribe,
        )
    return {
        "kind": kind,
        "recipient": patient.email,
        "subject": subject,
        "body_text": body,
        "dedupe_key": f"{kind}:{session.id}:{int(session.starts_at.timestamp())}",
        "status": OutboxStatus.pending,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "appointment_id": session.id,
        "appointment_starts_at": session.starts_at,
        "patient_id": patient.id,
        "essential": False,
        "unsubscribe_url": unsubscribe,
    }


def _insert_ignoring_duplicates(rows: list[dict[str, Any]]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING: a row another planner wrote first is skipped."""
    statement: Any
    if db.session.get_bind().dialect.name == "postgresql":
        statement = postgresql.insert(OutboxMessage).values(rows).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(OutboxMessage).values(rows).on_conflict_do_nothing()
    # RETURNING counts the rows written on both engines (rowcount is not reliable here).
    return statement.returning(OutboxMessage.id)


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


__all__ = ["KIND_2H", "KIND_24H", "LEADS", "MailSettings", "plan_reminders"]
