"""Clinic set-up for admins."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Location, Practitioner, Room, SessionType, User
from booking.security import guard
from booking.services.clinic import get_clinic

bp = Blueprint("admin", __name__)
guard(bp, roles=["admin"])


@bp.route("/")
def home() -> str:
    counts = {
        label: db.session.scalar(select(func.count()).select_from(model))
        for label, model in (
            ("Locations", Location),
            ("Rooms", Room),
            ("Session types", SessionType),
            ("Practitioners", Practitioner),
            ("Accounts", User),
        )
    }
    return render_template("admin/home.html", clinic=get_clinic(), counts=counts)
