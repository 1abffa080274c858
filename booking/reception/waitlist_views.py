"""Reception's waitlist and the follow-up list of side effects patients reported."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from booking import clock
from booking.domain.errors import DomainError, InvalidInput
from booking.domain.notes.signing import ADVERSE_EVENTS
from booking.extensions import db
from booking.forms import EmptyForm
from booking.models import PatientProfile
from booking.reception.views import bp
from booking.services.aftercare import reports
from booking.services.notes import follow_ups as note_follow_ups
from booking.services.plans import patient_side
from booking.services.waitlist import entries
from booking.waitlist import pages
from booking.waitlist.forms import ReceptionWaitlistForm, WaitlistForm


@bp.route("/waitlist")
def waitlist() -> str:
    return render_template(
        "reception/waitlist.html",
        entries=entries.waiting_entries(now=clock.utcnow()),
    )


def _patient_of(form: WaitlistForm) -> PatientProfile:
    assert isinstance(form, ReceptionWaitlistForm)  # noqa: S101 - this page's own form
    try:
        return entries.find_patient(form.email.data or "", form.given_name.data or "")
    except DomainError as error:
        raise InvalidInput(error.message, field="email") from None


@bp.route("/waitlist/new", methods=["GET", "POST"])
def waitlist_new() -> Any:
    return pages.join_page(
        ReceptionWaitlistForm(),
        patient=_patient_of,
        template="reception/waitlist_new.html",
        done_url=url_for("reception.waitlist"),
        source="staff",
    )


@bp.route("/waitlist/<id:entry_id>/remove", methods=["POST"])
def waitlist_remove(entry_id: int) -> Any:
    return pages.remove_entry(entry_id, patient_id=None, done_url=url_for("reception.waitlist"))


@bp.route("/follow-ups")
def follow_ups() -> str:
    return render_template(
        "reception/follow_ups.html",
        lines=reports.open_reports(),
        done_url=lambda report_id: url_for("reception.follow_up_done", report_id=report_id),
        note_lines=note_follow_ups.open_follow_ups(),
        plan_requests=patient_side.open_requests(),
        event_labels=ADVERSE_EVENTS,
        button_form=EmptyForm(),
    )


@bp.route("/follow-ups/<id:report_id>/done", methods=["POST"])
def follow_up_done(report_id: int) -> Any:
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            reports.follow_up(report_id, actor=current_user, now=clock.utcnow())
        except DomainError:
            abort(404)
        db.session.commit()
        flash("Marked as followed up.")
    return redirect(url_for("reception.follow_ups"), 303)


@bp.route("/follow-ups/notes/<id:follow_up_id>/done", methods=["POST"])
def note_follow_up_done(follow_up_id: int) -> Any:
    """A practitioner's note recorded fainting or a forgotten needle: reception called."""
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            note_follow_ups.follow_up_done(follow_up_id, actor=current_user, now=clock.utcnow())
        except DomainError:
            abort(404)
        db.session.commit()
        flash("Marked as followed up.")
    return redirect(url_for("reception.follow_ups"), 303)
