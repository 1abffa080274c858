"""Clinic set-up for admins: booking policies, locations, rooms and session types."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from booking import clock
from booking.admin.forms.locations import LocationForm
from booking.admin.forms.policies import PolicyForm
from booking.admin.forms.rooms import RoomForm
from booking.admin.forms.session_types import SessionTypeForm
from booking.domain.errors import DomainError
from booking.domain.phones import format_national
from booking.errors import status_for
from booking.extensions import db
from booking.models import Clinic, Location, Room, SessionType, User
from booking.security import guard
from booking.services.clinic import locations as locations_service
from booking.services.clinic import policies as policies_service
from booking.services.clinic import practitioners
from booking.services.clinic import session_types as session_types_service
from booking.services.clinic.overview import setup_counts
from booking.services.clinic.settings import get_clinic

bp = Blueprint("admin", __name__)
guard(bp, roles=["admin"])

F = TypeVar("F", bound=FlaskForm)


def _form(form_class: type[F], saved: dict[str, Any], **kwargs: Any) -> F:
    """The form filled from the saved values on GET, from the request body alone on POST."""
    if request.method == "POST":
        return form_class(**kwargs)
    return form_class(data=saved, **kwargs)


def _refused(form: FlaskForm, error: DomainError, template: str, **context: Any) -> Any:
    """Re-render a form with a service's refusal shown against the field it names."""
    db.session.rollback()
    field = getattr(form, getattr(error, "field", None) or "", None)
    if field is None:  # not tied to one answer: show it against the first question
        field = next(f for f in form if f.type not in {"CSRFTokenField", "HiddenField"})
    field.errors = [*field.errors, error.message]
    return render_template(template, form=form, **context), status_for(error)


def _actor() -> User:
    return current_user._get_current_object()  # the User row, not the request-bound proxy


def _clinic_or_404() -> Clinic:
    clinic = get_clinic()
    if clinic is None:
        abort(404)
    return clinic


def _save(
    form: Any,
    template: str,
    save: Callable[..., Any],
    banner: str,
    next_endpoint: str,
    **context: Any,
) -> ResponseReturnValue:
    """POST/redirect/GET: validate, call the service, commit once, then show the banner.

    `banner` is formatted with the saved row's name.
    """
    if form.validate_on_submit():
        try:
            saved = save(form.values(), actor=_actor(), now=clock.utcnow())
        except DomainError as error:
            return _refused(form, error, template, **context)
        db.session.commit()
        flash(banner.format(saved.name))
        return redirect(url_for(next_endpoint))
    return render_template(template, form=form, **context)


@bp.route("/")
def home() -> str:
    return render_template("admin/home.html", clinic=get_clinic(), counts=setup_counts())


# ---- Booking policies ------------------------------------------------------------------------


def policy_data(clinic: Clinic) -> dict[str, Any]:
    return {
        "min_notice_minutes": clinic.min_notice_minutes,
        "max_advance_days": clinic.max_advance_days,
        "slot_step_minutes": str(clinic.slot_step_minutes),
        "cancellation_cutoff_hours": clinic.cancellation_cutoff_hours,
        "late_cancel_mode": str(clinic.late_cancel_mode),
        "missed_threshold": clinic.missed_threshold,
    }


@bp.route("/policies", methods=["GET", "POST"])
def policies() -> ResponseReturnValue:
    form = _form(PolicyForm, policy_data(_clinic_or_404()))
    return _save(
        form,
        "admin/policies.html",
        policies_service.update_policies,
        "Booking policies saved",
        "admin.home",
    )


# ---- Locations and rooms ---------------------------------------------------------------------


def location_data(location: Location | None) -> dict[str, Any]:
    if location is None:
        return {
            "country_code": "GB",
            "subdivision": "GB-ENG",
            "timezone": "Europe/London",
            "slot_step_minutes": "",
        }
    return {
        "name": location.name,
        "address": location.address,
        "phone": format_national(location.phone, location.country_code),
        "country_code": location.country_code,
        "subdivision": location.holiday_region if location.subdivision else "",
        "timezone": location.timezone,
        "min_notice_minutes": location.min_notice_minutes,
        "max_advance_days": location.max_advance_days,
        "slot_step_minutes": str(location.slot_step_minutes or ""),
        "cancellation_cutoff_hours": location.cancellation_cutoff_hours,
        "reminder_24h": _answer(location.reminder_24h),
        "reminder_2h": _answer(location.reminder_2h),
        "is_active": "yes" if location.is_active else "no",
    }


def _answer(override: bool | None) -> str:
    return "" if override is None else "yes" if override else "no"


def _location_form(clinic: Clinic, location: Location | None) -> LocationForm:
    return _form(
        LocationForm,
        location_data(location),
        clinic_step=clinic.slot_step_minutes,
        clinic_reminders=(clinic.reminder_24h, clinic.reminder_2h),
    )


@bp.route("/locations")
def locations() -> str:
    return render_template(
        "admin/locations.html",
        locations=locations_service.locations_with_rooms(),
        clinic=get_clinic(),
    )


@bp.route("/locations/new", methods=["GET", "POST"])
def location_new() -> ResponseReturnValue:
    clinic = _clinic_or_404()
    form = _location_form(clinic, None)
    save = locations_service.create_location
    return _save(
        form, "admin/location_new.html", save, "{} added", "admin.locations", clinic=clinic
    )


@bp.route("/locations/<id:location_id>", methods=["GET", "POST"])
def location_edit(location_id: int) -> ResponseReturnValue:
    clinic = _clinic_or_404()
    location = db.get_or_404(Location, location_id)
    form = _location_form(clinic, location)
    save = partial(locations_service.update_location, location.id)
    template = "admin/location_edit.html"
    context = {"clinic": clinic, "location": location}
    return _save(form, template, save, "Changes to {} saved", "admin.locations", **context)


def room_data(room: Room | None) -> dict[str, Any]:
    if room is None:
        return {"capacity": 1, "sort_order": 1}
    return {
        "name": room.name,
        "kind": str(room.kind),
        "capacity": room.capacity,
        "sort_order": room.sort_order,
        "is_active": "yes" if room.is_active else "no",
    }


@bp.route("/locations/<id:location_id>/rooms/new", methods=["GET", "POST"])
def room_new(location_id: int) -> ResponseReturnValue:
    location = db.get_or_404(Location, location_id)
    form = _form(RoomForm, room_data(None))
    save = partial(locations_service.create_room, location.id)
    template = "admin/room_new.html"
    return _save(form, template, save, "{} added", "admin.locations", location=location)


@bp.route("/rooms/<id:room_id>", methods=["GET", "POST"])
def room_edit(room_id: int) -> ResponseReturnValue:
    room = db.get_or_404(Room, room_id)
    form = _form(RoomForm, room_data(room))
    save = partial(locations_service.update_room, room.id)
    context = {"room": room, "location": room.location}
    return _save(
        form, "admin/room_edit.html", save, "Changes to {} saved", "admin.locations", **context
    )


# ---- Session types ---------------------------------------------------------------------------


def session_type_data(session_type: SessionType | None) -> dict[str, Any]:
    if session_type is None:
        return {"buffer_before_minutes": 0, "buffer_after_minutes": 0, "sort_order": 1}
    return {
        "name": session_type.name,
        "description": session_type.description,
        "duration_minutes": session_type.duration_minutes,
        "buffer_before_minutes": session_type.buffer_before_minutes,
        "buffer_after_minutes": session_type.buffer_after_minutes,
        "price": session_type.price_pence,
        "audience": str(session_type.audience),
        "room_kind": str(session_type.room_kind or ""),
        "modalities": [m for m in session_type.modalities.split(",") if m],
        "practitioner_ids": [str(pid) for pid in session_types_service.offered_by(session_type.id)],
        "sort_order": session_type.sort_order,
        "is_active": "yes" if session_type.is_active else "no",
    }


def _session_type_form(session_type: SessionType | None) -> SessionTypeForm:
    saved = session_type_data(session_type)
    chosen = [int(pid) for pid in saved.get("practitioner_ids", [])]
    return _form(SessionTypeForm, saved, practitioners=practitioners.practitioner_choices(chosen))


@bp.route("/session-types")
def session_types() -> str:
    return render_template(
        "admin/session_types.html", rows=session_types_service.session_type_rows()
    )


@bp.route("/session-types/new", methods=["GET", "POST"])
def session_type_new() -> ResponseReturnValue:
    form = _session_type_form(None)
    save = session_types_service.create_session_type
    return _save(form, "admin/session_type_new.html", save, "{} added", "admin.session_types")


@bp.route("/session-types/<id:session_type_id>", methods=["GET", "POST"])
def session_type_edit(session_type_id: int) -> ResponseReturnValue:
    session_type = db.get_or_404(SessionType, session_type_id)
    form = _session_type_form(session_type)
    save = partial(session_types_service.update_session_type, session_type.id)
    template = "admin/session_type_edit.html"
    banner = "Changes to {} saved"
    return _save(form, template, save, banner, "admin.session_types", session_type=session_type)
