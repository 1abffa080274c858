"""The join-the-waitlist page flow, shared by the patient's and reception's pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request
from flask_login import current_user

from booking import clock
from booking.domain.errors import DomainError
from booking.extensions import db
from booking.forms import EmptyForm
from booking.models import PatientProfile, WaitlistEntry
from booking.security import get_owned_or_404
from booking.services.waitlist import entries
from booking.waitlist.forms import WaitlistForm


def join_page(
    form: WaitlistForm,
    *,
    patient: Callable[[WaitlistForm], PatientProfile],
    template: str,
    done_url: str,
    source: str,
    announce: bool = True,
    **context: Any,
) -> Any:
    """GET: the form (prefilled from the booking journey); POST: join, then back to the list.

    `patient` finds who joins from the form (raises a DomainError naming a field).
    """
    if request.method == "GET":
        form.prefill(request.args)
    if form.validate_on_submit():
        try:
            entry = entries.join(
                patient(form),
                **form.values(),
                now=clock.utcnow(),
                actor=current_user if current_user.is_authenticated else None,
                source=source,
            )
        except DomainError as error:
            db.session.rollback()
            field = getattr(form, getattr(error, "field", None) or "session_type")
            field.errors = [error.message]
            return render_template(template, form=form, **context)
        db.session.commit()
        if announce:
            # Flashes live in the session cookie until shown: no patient's name in them.
            flash(
                f"Added to the waitlist for {entry.session_type.name} "
                f"at {entry.location.name}. We email when a time comes up."
            )
        return redirect(done_url, 303)
    return render_template(template, form=form, **context)


def remove_entry(entry_id: int, *, patient_id: int | None, done_url: str) -> Any:
    """A remove button: CSRF-checked; another patient's entry is not found (404)."""
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(done_url, 303)
    owner = {} if patient_id is None else {"patient_id": patient_id}
    entry = get_owned_or_404(WaitlistEntry, entry_id, **owner)
    entries.remove(entry, now=clock.utcnow(), actor=current_user)
    db.session.commit()
    flash(f"Removed from the waitlist for {entry.session_type.name}.")
    return redirect(done_url, 303)
