"""Practitioners, weekly hours, time off, extra hours, closures and holidays (admin).

`hours_page`, `time_off_page` and `remove_*` also serve the practitioner's own pages
(`booking.practitioner.views`), so both share one flow and one set of templates.
Changes never move appointments: each page lists the sessions now outside open hours.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from booking import clock
from booking.admin.account_views import invitation_link
from booking.admin.forms.exceptions import ClosureForm, TimeOffForm
from booking.admin.forms.hours import HoursForm
from booking.admin.forms.practitioners import NewPractitionerForm, PractitionerForm
from booking.admin.views import _actor, _form, _refused, bp
from booking.domain.errors import DomainError
from booking.domain.formatting import format_time
from booking.extensions import db
from booking.forms import EmptyForm
from booking.links import base_url
from booking.models import Appointment, Practitioner, ScheduleException
from booking.services.accounts import staff
from booking.services.clinic import locations as locations_service
from booking.services.clinic import practitioners as practitioners_service
from booking.services.clinic import session_types, settings
from booking.services.rota import exceptions, outside_hours
from booking.services.rota import hours as hours_service
from booking.services.waitlist import offers as waitlist_offers


def _outside(**scope: Any) -> dict[str, Any]:
    """The sessions now outside open hours, and a link to each one's day if a day view exists."""
    appointments = outside_hours.appointments_now_outside_hours(now=clock.utcnow(), **scope)
    return {"outside": appointments, "day_link": _day_link()}


def _day_link() -> Callable[[Appointment], str] | None:
    # Only practitioners have a dated day view (ux.md P1); admins have none to link to.
    if current_user.role != "practitioner" or "practitioner.day" not in current_app.view_functions:
        return None

    def link(appointment: Appointment) -> str:
        local = appointment.starts_at.astimezone(appointment.location.zone)
        return url_for("practitioner.day", date=local.date().isoformat())

    return link


def _write(
    form: Any,
    template: str,
    save: Callable[..., Any],
    banner: Callable[[Any], str],
    done_url: str | Callable[[Any], str],
    context: Callable[[], dict[str, Any]],
) -> ResponseReturnValue:
    """POST/redirect/GET for a form shown above a list: the list is read after any rollback.

    `done_url` may depend on the saved row (a callable).
    """
    if form.validate_on_submit():
        try:
            saved = save(form.values(), actor=_actor(), now=clock.utcnow())
        except DomainError as error:
            db.session.rollback()
            return _refused(form, error, template, **context())
        db.session.commit()
        flash(banner(saved))
        return redirect(done_url(saved) if callable(done_url) else done_url)
    return render_template(template, form=form, **context())


def _remove(
    describe: Callable[[], str],
    remove: Callable[..., Any],
    banner: Callable[[Any], str],
    done_url: str,
) -> Any:
    """Ask first: GET shows the confirmation page (its own page, with "Cancel" back to the
    list), POST removes (CSRF-checked), commits and goes back. NotFound (another's row or
    none) is a 404 either way."""
    what = describe()  # NotFound before anything else
    form = EmptyForm()
    if request.method == "GET":
        return render_template(
            "admin/confirm_remove.html", what=what, form=form, cancel_url=done_url
        )
    if not form.validate_on_submit():  # only a missing or stale CSRF token gets here
        return redirect(done_url)
    removed = remove(actor=_actor(), now=clock.utcnow())
    db.session.commit()
    flash(banner(removed))
    return redirect(done_url)


def _describe_exception(row: ScheduleException) -> str:
    """ "Time off on Monday 19 April 2027, all day"."""
    what = _exception_banner("", row).strip()
    if row.start_time is None or row.end_time is None:
        return f"{what}, all day"
    return f"{what}, {format_time(row.start_time)} to {format_time(row.end_time)}"


def _exception_banner(verb: str, row: ScheduleException) -> str:
    what = {
        "time_off": "Time off",
        "extra_hours": "Extra hours",
        "closure": "Closure",
        "holiday": "Public holiday",
    }[row.kind.value]
    return f"{what} on {_long_date(row.on_date)} {verb}"


def _long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _offering(change: Callable[..., Any], opens: set[str] | None = None) -> Callable[..., Any]:
    """A rota change that also offers any time it opens to the waitlist (same transaction).

    `opens`: the exception kinds whose change opens time (None: weekly hours added).
    """

    def run(*args: Any, **kwargs: Any) -> Any:
        row = change(*args, **kwargs)
        if opens is not None and row.kind.value not in opens:
            return row
        freed = waitlist_offers.freed_by_rota_change(row, now=kwargs["now"])
        if freed is not None:
            waitlist_offers.offer_freed_time(
                freed,
                now=kwargs["now"],
                base_url=base_url(),
                clinic_name=current_app.config["CLINIC_NAME"],
            )
        return row

    return run


# ---- Shared with the practitioner's own pages -----------------------------------------------


def hours_page(
    practitioner: Practitioner,
    *,
    template: str,
    page_url: str,
    remove_url: Callable[[int], str],
    **extra: Any,
) -> ResponseReturnValue:
    """A practitioner's weekly hours by location and weekday, the sessions outside them, and a
    form to add an interval."""
    form = HoursForm(locations=locations_service.location_choices())

    def context() -> dict[str, Any]:
        return {
            "practitioner": practitioner,
            "groups": hours_service.hours_by_location(practitioner.id),
            "remove_url": remove_url,
            "action": page_url,
            **_outside(practitioner_id=practitioner.id),
            **extra,
        }

    names = locations_service.location_names
    return _write(
        form,
        template,
        _offering(partial(hours_service.add_hours, practitioner.id)),
        lambda hours: (
            f"Hours added: {hours_service.describe_hours(hours, names()[hours.location_id])}"
        ),
        page_url,
        context,
    )


def remove_hours(practitioner: Practitioner, hours_id: int, page_url: str) -> Any:
    return _remove(
        lambda: "Hours: " + hours_service.describe_own_hours(practitioner.id, hours_id),
        partial(hours_service.remove_hours, practitioner.id, hours_id),
        lambda described: f"Hours removed: {described}",
        page_url,
    )


def time_off_page(
    practitioner: Practitioner,
    *,
    template: str,
    page_url: str,
    remove_url: Callable[[int], str],
    **extra: Any,
) -> ResponseReturnValue:
    """Upcoming time off, extra hours and closures, the sessions outside hours, and a form."""
    locations = locations_service.location_choices()
    form = TimeOffForm(locations=locations)

    def context() -> dict[str, Any]:
        today = settings.clinic_today(clock.utcnow())
        return {
            "practitioner": practitioner,
            "exceptions": exceptions.upcoming_exceptions(practitioner.id, today=today),
            "location_names": locations_service.location_names(),
            "remove_url": remove_url,
            "action": page_url,
            **_outside(practitioner_id=practitioner.id),
            **extra,
        }

    return _write(
        form,
        template,
        _offering(partial(exceptions.add_exception, practitioner.id), {"extra_hours"}),
        partial(_exception_banner, "added"),
        page_url,
        context,
    )


def remove_exception(practitioner: Practitioner, exception_id: int, page_url: str) -> Any:
    return _remove(
        lambda: _describe_exception(exceptions.own_exception(practitioner.id, exception_id)),
        _offering(
            partial(exceptions.remove_exception, practitioner.id, exception_id),
            {"time_off", "closure"},
        ),
        partial(_exception_banner, "removed"),
        page_url,
    )


# ---- Practitioners ---------------------------------------------------------------------------


def practitioner_data(practitioner: Practitioner) -> dict[str, Any]:
    return {
        "display_name": practitioner.display_name,
        "bio": practitioner.bio,
        "session_type_ids": [str(t.id) for t in practitioner.session_types],
        "can_review_articles": "yes" if practitioner.can_review_articles else "no",
        "is_active": "yes" if practitioner.is_active else "no",
    }


@bp.route("/practitioners")
def practitioners() -> str:
    return render_template(
        "admin/practitioners.html", practitioners=practitioners_service.practitioners()
    )


@bp.route("/practitioners/new", methods=["GET", "POST"])
def practitioner_new() -> ResponseReturnValue:
    form = NewPractitionerForm()
    save = partial(
        staff.invite_practitioner,
        link=invitation_link(),
        clinic_name=current_app.config["CLINIC_NAME"],
    )
    return _write(
        form,
        "admin/practitioner_new.html",
        save,
        lambda p: f"{p.display_name} added and invited. Now choose the sessions they offer",
        lambda p: url_for("admin.practitioner_edit", practitioner_id=p.id),
        dict,
    )


@bp.route("/practitioners/<id:practitioner_id>", methods=["GET", "POST"])
def practitioner_edit(practitioner_id: int) -> ResponseReturnValue:
    practitioner = db.get_or_404(Practitioner, practitioner_id)
    saved = practitioner_data(practitioner)
    chosen = [int(i) for i in saved["session_type_ids"]]
    form = _form(PractitionerForm, saved, session_types=session_types.session_type_choices(chosen))
    return _write(
        form,
        "admin/practitioner_edit.html",
        partial(practitioners_service.update_practitioner, practitioner.id),
        lambda p: f"Changes to {p.display_name} saved",
        url_for("admin.practitioners"),
        lambda: {"practitioner": practitioner},
    )


# ---- Hours and time off of any practitioner --------------------------------------------------


@bp.route("/practitioners/<id:practitioner_id>/hours", methods=["GET", "POST"])
def practitioner_hours(practitioner_id: int) -> ResponseReturnValue:
    practitioner = db.get_or_404(Practitioner, practitioner_id)
    return hours_page(
        practitioner,
        template="admin/practitioner_hours.html",
        page_url=url_for("admin.practitioner_hours", practitioner_id=practitioner.id),
        remove_url=lambda hours_id: url_for(
            "admin.practitioner_hours_remove", practitioner_id=practitioner.id, hours_id=hours_id
        ),
    )


@bp.route("/practitioners/<id:practitioner_id>/hours/<id:hours_id>/remove", methods=["GET", "POST"])
def practitioner_hours_remove(practitioner_id: int, hours_id: int) -> Any:
    practitioner = db.get_or_404(Practitioner, practitioner_id)
    page = url_for("admin.practitioner_hours", practitioner_id=practitioner.id)
    return remove_hours(practitioner, hours_id, page)


@bp.route("/practitioners/<id:practitioner_id>/time-off", methods=["GET", "POST"])
def practitioner_time_off(practitioner_id: int) -> ResponseReturnValue:
    practitioner = db.get_or_404(Practitioner, practitioner_id)
    return time_off_page(
        practitioner,
        template="admin/practitioner_time_off.html",
        page_url=url_for("admin.practitioner_time_off", practitioner_id=practitioner.id),
        remove_url=lambda exception_id: url_for(
            "admin.practitioner_time_off_remove",
            practitioner_id=practitioner.id,
            exception_id=exception_id,
        ),
    )


@bp.route(
    "/practitioners/<id:practitioner_id>/time-off/<id:exception_id>/remove", methods=["GET", "POST"]
)
def practitioner_time_off_remove(practitioner_id: int, exception_id: int) -> Any:
    practitioner = db.get_or_404(Practitioner, practitioner_id)
    page = url_for("admin.practitioner_time_off", practitioner_id=practitioner.id)
    return remove_exception(practitioner, exception_id, page)


# ---- Closures and holidays -------------------------------------------------------------------


@bp.route("/closures", methods=["GET", "POST"])
def closures() -> ResponseReturnValue:
    form = ClosureForm(locations=locations_service.location_choices())

    def context() -> dict[str, Any]:
        upcoming = exceptions.upcoming_closures(today=settings.clinic_today(clock.utcnow()))
        return {
            "closures": upcoming,
            "location_names": locations_service.location_names(),
            "remove_url": lambda exception_id: url_for(
                "admin.closure_remove", exception_id=exception_id
            ),
            **_outside(on_dates={c.on_date for c in upcoming}),
        }

    return _write(
        form,
        "admin/closures.html",
        exceptions.add_closure,
        partial(_exception_banner, "added"),
        url_for("admin.closures"),
        context,
    )


@bp.route("/closures/<id:exception_id>/remove", methods=["GET", "POST"])
def closure_remove(exception_id: int) -> Any:
    return _remove(
        lambda: _describe_exception(exceptions.clinic_closure(exception_id)),
        partial(exceptions.remove_closure, exception_id),
        partial(_exception_banner, "removed"),
        url_for("admin.closures"),
    )
