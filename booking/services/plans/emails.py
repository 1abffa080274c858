"""One email per plan change (issue 17): a booked series, a paused or cancelled plan.

A series booking sends ONE confirmation listing every session ("session k of N") with one
.ics holding every session (each event its own UID), not one email per session. Pausing or
cancelling a plan cancels its future sessions and sends ONE email listing them, with a
METHOD:CANCEL .ics of those sessions. Only time, place, practitioner and session type.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from booking.domain.phones import format_national
from booking.mail import render_email
from booking.models import Appointment, TreatmentPlan
from booking.services.booking.calendar import series_ics
from booking.services.intake.links import first_visit_intake
from booking.services.plans.sequence import sequence_of
from booking.services.platform import outbox

SUBJECTS = {
    "booked": "Your treatment plan sessions are booked",
    "paused": "Your treatment plan is paused",
    "cancelled": "Your treatment plan is cancelled",
}


def queue_plan_email(
    plan: TreatmentPlan,
    appointments: list[Appointment],
    *,
    kind: str,
    base_url: str,
    clinic_name: str,
    now: datetime,
    manage_tokens: dict[int, str] | None = None,
    secret: str = "",
    outcome_url: str | None = None,
) -> None:
    """Queue ONE email to the plan's patient about `appointments` (booked or cancelled).

    The pause or cancel reason is not sent: it is free text and may be clinical.
    """
    patient = plan.patient
    if not appointments or patient is None:
        return
    ordered = sorted(appointments, key=lambda a: (a.starts_at, a.id))
    numbers = sequence_of([a.id for a in ordered]) if kind == "booked" else {}
    tokens = manage_tokens or {}
    root = base_url.rstrip("/")
    sessions = [
        {
            "start": a.starts_at.astimezone(a.location.zone),
            "session_type": a.session_type.name,
            "practitioner": a.practitioner.display_name,
            "sequence": numbers.get(a.id),
            "manage_url": f"{root}/manage/{tokens[a.id]}" if a.id in tokens else None,
        }
        for a in ordered
    ]
    location = ordered[0].location
    first = next((a for a in ordered if a.is_first_visit), None)
    intake = (
        first_visit_intake(first, base_url=base_url, secret=secret)
        if first is not None and kind == "booked"
        else None
    )
    body = render_email(
        "plan_sessions",
        kind=kind,
        given_name=patient.given_name,
        sessions=sessions,
        total=plan.total,
        place=location.name,
        address=location.address,
        phone=format_national(location.phone, location.country_code),
        intake=intake,
        outcome_url=outcome_url if kind == "booked" else None,
        clinic_name=clinic_name,
    )
    method = "REQUEST" if kind == "booked" else "CANCEL"
    ids = ",".join(f"{a.id}.{a.ics_sequence}" for a in ordered)
    digest = hashlib.sha256(ids.encode()).hexdigest()[:32]
    outbox.enqueue(
        kind=f"plan.{kind}",
        recipient=patient.email,
        patient_id=patient.id,
        subject=f"{SUBJECTS[kind]} – {clinic_name}",
        body_text=body,
        dedupe_key=f"plan:{plan.id}:{kind}:{digest}",
        now=now,
        ics=series_ics(ordered, clinic_name=clinic_name, method=method, now=now),
        ics_method=method,
    )
