"""A signed-in patient's own pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.clock import utcnow
from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, PatientProfile
from booking.security import guard

bp = Blueprint("patient", __name__)
guard(bp, roles=["patient"])


@bp.route("/")
def home() -> str:
    profile = db.session.scalar(
        select(PatientProfile).where(PatientProfile.user_id == current_user.id)
    )
    appointments: list[Appointment] = []
    if profile is not None:
        appointments = list(
            db.session.scalars(
                select(Appointment)
                .where(
                    Appointment.patient_id == profile.id,
                    Appointment.status != AppointmentStatus.held,
                )
                .options(
                    selectinload(Appointment.practitioner),
                    selectinload(Appointment.session_type),
                    selectinload(Appointment.location),
                )
                .order_by(Appointment.starts_at)
            )
        )
    now = utcnow()
    upcoming = [a for a in appointments if a.ends_at > now and a.status != "cancelled"]
    past = [a for a in appointments if a not in upcoming]
    return render_template(
        "patient/home.html", profile=profile, upcoming=upcoming, past=list(reversed(past))
    )
