"""Clinical notes (issue 16): write a session's note, save it as a draft on every submit,
sign it (then locked), add addenda under it, read the patient's earlier notes.

The session's own practitioner writes its note; every practitioner of the clinic reads notes
(`practitioner.note`), each read audited (`note.read`) before the page renders. The
patient's flags and consents show beside the form.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking import clock
from booking.domain.errors import DomainError
from booking.domain.notes import options
from booking.domain.notes.points import SIDE_LABELS
from booking.errors import status_for
from booking.extensions import db
from booking.forms import EmptyForm
from booking.intake.staff import audit_read, flag_rows
from booking.models import Appointment, ClinicalNote, Modality, User
from booking.practitioner.note_form import (
    MULTI,
    note_form_data,
    ordered_errors,
    read_note_form,
    stored_points,
    submitted_data,
)
from booking.practitioner.views import bp
from booking.services.intake import consent as consent_service
from booking.services.notes import access, writing

LABELS = {
    "tongue_colour": options.TONGUE_COLOURS,
    "tongue_coating": options.TONGUE_COATINGS,
    **MULTI,
}


def _actor() -> User:
    return current_user._get_current_object()  # the User row, not the request-bound proxy


def _audit(note: ClinicalNote) -> None:
    audit_read(
        "note.read", object_type="clinical_note", object_id=note.id, patient_id=note.patient_id
    )


def _error_list(errors: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"text": message, "href": f"#{name}"} for name, message in errors]


def _side_panel(appointment: Appointment) -> dict[str, Any]:
    """Flags (audited as flags.read), consents and "last time" beside the form."""
    assert appointment.patient_id is not None  # noqa: S101 - a note's session has a patient
    audit_read(
        "flags.read",
        object_type="patient",
        object_id=appointment.patient_id,
        patient_id=appointment.patient_id,
    )
    consents = consent_service.current_consents(appointment.patient_id)
    return {
        "flags": flag_rows(appointment.patient_id),
        "consents": [
            (consent_service.MODALITY_LABELS[modality], modality in consents)
            for modality in Modality
        ],
        "last_time": access.last_note_before(appointment),
    }


def _edit_page(
    appointment: Appointment,
    note: ClinicalNote | None,
    *,
    data: dict[str, Any],
    errors: list[tuple[str, str]] = (),  # type: ignore[assignment]
    intro: str | None = None,
    status: int = 200,
) -> Any:
    if note is not None:
        _audit(note)
    page = render_template(
        "practitioner/note_edit.html",
        appointment=appointment,
        note=note,
        data=data,
        errors=list(errors),
        error_list=_error_list(list(errors)),
        error_intro=intro,
        labels=LABELS,
        **_side_panel(appointment),
    )
    return page, status


def _read_page(
    note: ClinicalNote, *, form: EmptyForm | None = None, errors: Any = (), status: int = 200
) -> Any:
    _audit(note)
    page = render_template(
        "practitioner/note.html",
        note=note,
        appointment=note.appointment,
        points=[(p.code, SIDE_LABELS[p.side]) for p in stored_points(note)],
        labels=LABELS,
        may_add=access.may_add_addendum(note, actor=_actor()),
        may_edit=not note.signed and access.may_write(note, actor=_actor()),
        addendum_text=request.form.get("text", "") if errors else "",
        errors=list(errors),
        error_list=_error_list(list(errors)),
        button_form=form or EmptyForm(),
    )
    return page, status


@bp.route("/sessions/<id:appointment_id>/note", methods=["GET", "POST"])
def session_note(appointment_id: int) -> Any:
    actor = _actor()
    appointment = access.own_session(appointment_id, actor=actor)
    note = access.note_of(appointment.id)
    if note is not None and note.signed:
        if request.method == "POST":
            error = writing.NoteLocked(
                "This note is signed and cannot be changed: add an addendum instead."
            )
            return _read_page(note, errors=[("text", error.message)], status=status_for(error))
        return _read_page(note)
    if request.method == "GET":
        return _edit_page(appointment, note, data=note_form_data(note))
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("practitioner.session_note", appointment_id=appointment.id), 303)
    parsed = read_note_form(request.form)
    now = clock.utcnow()
    note = writing.save_draft(appointment, parsed.values, actor=actor, now=now).note
    signing = request.form.get("action") == "sign"
    if parsed.errors:
        intro = "Your draft is saved. Correct these" + (" to sign the note." if signing else ".")
        page = _edit_page(
            appointment,
            note,
            data=submitted_data(request.form),
            errors=ordered_errors(parsed.errors),
            intro=intro,
            status=422,
        )
        db.session.commit()
        return page
    if not signing:
        db.session.commit()
        flash("Draft saved.")
        return redirect(url_for("practitioner.session_note", appointment_id=appointment.id), 303)
    try:
        writing.sign(note, actor=actor, now=now)
    except writing.SigningRefused as refused:
        problems = [(p.field, p.message) for p in refused.problems]
        page = _edit_page(
            appointment,
            note,
            data=note_form_data(note),
            errors=problems,
            intro="Your draft is saved. The note cannot be signed yet.",
            status=status_for(refused),
        )
        db.session.commit()
        return page
    db.session.commit()
    flash("Note signed. It can no longer be changed; add an addendum to correct it.")
    return redirect(url_for("practitioner.note", note_id=note.id), 303)


@bp.route("/notes/<id:note_id>")
def note(note_id: int) -> Any:
    return _read_page(access.readable_note(note_id, actor=_actor()))


@bp.route("/notes/<id:note_id>/addenda", methods=["POST"])
def note_addendum(note_id: int) -> Any:
    actor = _actor()
    found = access.readable_note(note_id, actor=actor)
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("practitioner.note", note_id=found.id), 303)
    try:
        writing.add_addendum(found, request.form.get("text", ""), actor=actor, now=clock.utcnow())
    except DomainError as error:
        db.session.rollback()
        found = access.readable_note(note_id, actor=actor)
        page = _read_page(
            found, form=form, errors=[("text", error.message)], status=status_for(error)
        )
        db.session.commit()
        return page
    db.session.commit()
    flash("Addendum added.")
    return redirect(url_for("practitioner.note", note_id=found.id, _anchor="addenda"), 303)


@bp.route("/patients/<id:patient_id>/notes")
def patient_notes(patient_id: int) -> str:
    patient, notes = access.patient_notes(patient_id, actor=_actor())
    return render_template("practitioner/patient_notes.html", patient=patient, notes=notes)
