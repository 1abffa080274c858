"""The demo's waitlist and aftercare: three patients waiting, and a side-effect report.

Patients without an upcoming session wait for one (oldest first, as offers go out); the
latest first session that has ended gets its check-in and a report of bruising and
tiredness, so reception's follow-up list and the practitioner's day view have something on
them. No email is queued (the check-in row stands for one already sent).
"""

from __future__ import annotations

from datetime import timedelta

from booking.demo.context import DemoContext, DemoPatient
from booking.extensions import db
from booking.models import (
    AftercareCheckin,
    AppointmentStatus,
    SideEffectReport,
    WaitlistEntry,
)
from booking.services.platform.tokens import new_token, token_hash

WAITING = 3
ATTENDED = (AppointmentStatus.completed, AppointmentStatus.checked_in)


def seed_waitlist_and_aftercare(context: DemoContext, patients: list[DemoPatient]) -> None:
    now = context.now
    waiting = [p for p in patients if not any(r.starts_at > now for r in p.rows)][:WAITING]
    for index, patient in enumerate(waiting):
        first = patient.rows[0] if patient.rows else None
        location_id = first.location_id if first else min(context.locations)
        db.session.add(
            WaitlistEntry(
                patient_id=patient.profile.id,
                session_type_id=first.session_type_id
                if first
                else next(iter(context.types.values())).id,
                location_id=location_id,
                practitioner_id=first.practitioner_id if index == 0 and first else None,
                weekdays="0,2,4" if index == 1 else "",
                day_parts="morning" if index == 2 else "",
                created_at=now - timedelta(days=3 - index),
                expires_at=now + timedelta(days=57 + index),
                updated_at=now,
            )
        )
    firsts = [
        row
        for p in patients
        for row in p.rows
        if row.is_first_visit and row.status in ATTENDED and row.ends_at <= now
    ]
    if firsts:
        latest = max(firsts, key=lambda row: row.ends_at)
        checkin = AftercareCheckin(
            appointment_id=latest.id,
            token_hash=token_hash(new_token()),
            expires_at=now + timedelta(days=14),
            created_at=now,
        )
        db.session.add(checkin)
        db.session.flush()
        db.session.add(
            SideEffectReport(
                checkin_id=checkin.id,
                effects="bruising,tiredness",
                detail="A small bruise on my left wrist and very sleepy the evening after.",
                created_at=now,
            )
        )
