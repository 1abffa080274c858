"""Staff pages on intake (reception and practitioners): every read writes one audit row.

The routes live in each blueprint (`reception/intake_views.py`, `practitioner/intake_views.py`)
so each keeps its own guard; the work is shared here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.db_hooks import write_unit
from booking.domain.errors import DomainError, NotFound
from booking.domain.intake.rules import FLAG_CATALOGUE, URGENT_ADVICE
from booking.extensions import db
from booking.forms import EmptyForm
from booking.intake import summary
from booking.intake.forms import PaperConsentForm, ReviewForm
from booking.links import base_url, id_links
from booking.models import (
    Appointment,
    ConsentMethod,
    IntakeResponse,
    IntakeStatus,
    Modality,
    PatientFlag,
    PatientProfile,
    Role,
)
from booking.security import request_id
from booking.services.intake import answers, reminders, staff
from booking.services.intake import consent as consent_service
from booking.services.platform import audit_log
from booking.services.platform.audit import record_event


def audit_read(action: str, *, object_type: str, object_id: int, patient_id: int) -> None:
    """One audit row for a staff read, committed before the page goes out."""
    audit_reads(action, object_type=object_type, patient_ids=[patient_id], object_id=object_id)


def audit_reads(
    action: str, *, object_type: str, patient_ids: list[int], object_id: int | None = None
) -> None:
    """One audit row per patient whose clinical data a page shows, in one short write."""
    if not patient_ids:
        return
    now, ip_address, rid = clock.utcnow(), request.remote_addr, request_id()
    with write_unit() as session:
        for patient_id in patient_ids:
            record_event(
                action,
                actor=current_user,
                now=now,
                object_type=object_type,
                object_id=patient_id if object_id is None else object_id,
                patient_id=patient_id,
                ip_address=ip_address,
                request_id=rid,
                session=session,
            )


def flag_rows(patient_id: int) -> list[dict[str, Any]]:
    flags = staff.active_flags([patient_id])[patient_id]
    return [
        {
            "label": staff.flag_label(
                flag, flag.intake.questionnaire.definition if flag.intake else None
            ),
            "advice": _advice(flag),
            "severity": flag.severity.value.replace("_", " "),
            "since": flag.created_at,
        }
        for flag in flags
    ]


def _advice(flag: Any) -> str:
    info = FLAG_CATALOGUE.get(flag.code)
    return info.advice if info else URGENT_ADVICE


def intake_page(intake_id: int, *, endpoint: str, record_endpoint: str, reviewable: bool) -> Any:
    """An intake's answers with its flags; reception may mark it reviewed (POST)."""
    intake = staff.intake_for_staff(intake_id, actor=current_user)
    form = ReviewForm() if reviewable and intake.status != IntakeStatus.reviewed else None
    if form is not None and form.validate_on_submit():
        try:
            staff.review_intake(intake, form.comment.data, actor=current_user, now=clock.utcnow())
        except DomainError as error:
            form.comment.errors = [error.message]
        else:
            db.session.commit()
            # Flashes travel in the signed, readable session cookie: they never name the patient.
            flash("Health questions marked as reviewed")
            return redirect(url_for("reception.intake_queue"), 303)
    audit_read(
        "intake.read", object_type="intake", object_id=intake.id, patient_id=intake.patient_id
    )
    return render_template(
        "intake/staff_intake.html",
        intake=intake,
        patient=intake.patient,
        sections=summary.sections(intake),
        peg3=summary.peg3(intake),
        flags=flag_rows(intake.patient_id),
        form=form,
        record_url=url_for(record_endpoint, patient_id=intake.patient_id),
        queue_url=url_for("reception.intake_queue") if reviewable else None,
    )


def record_page(
    patient_id: int,
    *,
    intake_endpoint: str,
    consent_endpoint: str,
    book_endpoint: str | None = None,
) -> str:
    """A patient's health record: flags, current consents, intakes (one audit row); with
    `book_endpoint`, a link to book them a session."""
    patient = staff.patient_for_staff(patient_id, actor=current_user)
    return render_template(
        "intake/staff_record.html",
        book_url=url_for(book_endpoint, patient_id=patient.id) if book_endpoint else None,
        **health_context(
            patient, intake_endpoint=intake_endpoint, consent_endpoint=consent_endpoint
        ),
    )


def health_context(
    patient: PatientProfile, *, intake_endpoint: str, consent_endpoint: str
) -> dict[str, Any]:
    """What `intake/_health.html` shows (flags, consents, intakes), its flags.read audit
    row recorded first."""
    audit_read("flags.read", object_type="patient", object_id=patient.id, patient_id=patient.id)
    consents = consent_service.current_consents(patient.id)
    return {
        "patient": patient,
        "flags": flag_rows(patient.id),
        "consents": [
            (consent_service.MODALITY_LABELS[modality], consents.get(modality))
            for modality in Modality
        ],
        "method_labels": consent_service.METHOD_LABELS,
        "intakes": answers.intakes_of_patient(patient.id),
        "reads": audit_log.record_reads(patient.id),
        "intake_endpoint": intake_endpoint,
        "consent_url": url_for(consent_endpoint, patient_id=patient.id),
    }


def consent_page(patient_id: int, *, record_endpoint: str) -> Response | str:
    """Record consent a patient gave on paper or verbally, against the current text."""
    patient: PatientProfile = staff.patient_for_staff(patient_id, actor=current_user)
    form = PaperConsentForm()
    form.modality.choices = [
        (modality.value, label) for modality, label in consent_service.MODALITY_LABELS.items()
    ]
    if form.validate_on_submit():
        consent_service.record_consent(
            patient,
            Modality(form.modality.data),
            method=ConsentMethod(form.method.data),
            actor=current_user,
            now=clock.utcnow(),
        )
        db.session.commit()
        label = consent_service.MODALITY_LABELS[Modality(form.modality.data)]
        flash(f"Consent to {label.lower()} recorded")
        return redirect(url_for(record_endpoint, patient_id=patient.id), 303)
    return render_template(
        "intake/staff_consent.html",
        patient=patient,
        form=form,
        back_url=url_for(record_endpoint, patient_id=patient.id),
    )


def queue_page() -> str:
    """Reception's queue: intakes to review (urgent first) and first visits still to answer."""
    now = clock.utcnow()
    awaiting = staff.awaiting_completion(now=now)
    return render_template(
        "intake/staff_queue.html",
        queue=staff.review_queue(),
        awaiting=awaiting,
        started=staff.intakes_for_appointments([a.id for a in awaiting]),
        reminder_open_at=lambda intake: (
            intake.reminded_at + reminders.REMINDER_GAP if intake and intake.reminded_at else None
        ),
        now=now,
        remind_form=EmptyForm(),
    )


def remind(appointment_id: int) -> Response:
    """Email the patient a reminder to answer the health questions (via the outbox)."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or appointment.patient is None:
        raise NotFound("That session does not exist.")
    reminders.send_reminder(
        appointment,
        actor=current_user,
        now=clock.utcnow(),
        secret=current_app.config["SECRET_KEY"],
        base_url=base_url(),
        clinic_name=current_app.config["CLINIC_NAME"],
    )
    db.session.commit()
    flash("Reminder sent to answer the health questions")
    return redirect(url_for("reception.intake_queue"), 303)


INTAKE_WORDS = {
    IntakeStatus.draft: "Started, not sent",
    IntakeStatus.submitted: "Sent, to review",
    IntakeStatus.reviewed: "Reviewed",
}


class Listed(Protocol):
    """What the notes need of a listed session: an `Appointment` or a plain row of one."""

    @property
    def id(self) -> int: ...
    @property
    def patient_id(self) -> int | None: ...
    @property
    def is_first_visit(self) -> bool: ...


def day_view_notes(appointments: Sequence[Listed]) -> dict[int, dict[str, Any]]:
    """What a day view shows per appointment, with the audit of that read already recorded.

    The flags are clinical data: each patient whose flags the view shows gets one flags.read
    row, written before the page renders (templates have no side effects).
    """
    notes = appointment_notes(appointments)
    shown = {a.patient_id for a in appointments if a.patient_id and notes[a.id]["flags"]}
    audit_reads("flags.read", object_type="patient", patient_ids=sorted(shown))
    return notes


class SheetListed(Listed, Protocol):
    """A listed session that says already whether its patient has an active flag and which
    intake it has (the day sheet's `listings.SheetSession`, the week's `WeekRow`)."""

    @property
    def flagged(self) -> bool: ...
    @property
    def intake_id(self) -> int | None: ...


def sheet_notes(sessions: Sequence[SheetListed]) -> dict[int, dict[str, Any]]:
    """`day_view_notes` for rows that know whether their patient is flagged and their
    intake's id: the flags and intakes are read only for those rows (no query when there
    are none), with the same words, links and flags.read audit rows (issue 22)."""
    flagged = {s.patient_id for s in sessions if s.flagged and s.patient_id}
    flags = staff.active_flags(flagged) if flagged else {}
    intake_ids = [s.intake_id for s in sessions if s.intake_id is not None]
    intakes = staff.intakes_by_id(intake_ids) if intake_ids else {}
    notes = _notes(sessions, flags, intakes)
    shown = {s.patient_id for s in sessions if s.patient_id and notes[s.id]["flags"]}
    audit_reads("flags.read", object_type="patient", patient_ids=sorted(shown))
    return notes


def appointment_notes(appointments: Sequence[Listed]) -> dict[int, dict[str, Any]]:
    """Flags and intake status as words for each row of a day view (ux.md §6 D1, P1)."""
    if not appointments:
        return {}
    flags = staff.active_flags(a.patient_id for a in appointments if a.patient_id)
    intakes = staff.intakes_for_appointments([a.id for a in appointments])
    return _notes(appointments, flags, intakes)


def _notes(
    appointments: Sequence[Listed],
    flags: Mapping[int, list[PatientFlag]],
    intakes: Mapping[int, IntakeResponse],
) -> dict[int, dict[str, Any]]:
    """The notes' words and links, given the patients' active flags and the intakes by
    appointment id."""
    prefixes: dict[Role | None, str] = {
        Role.receptionist: "reception",
        Role.practitioner: "practitioner",
    }
    prefix = prefixes.get(getattr(current_user, "role", None))
    intake_url = id_links(f"{prefix}.intake_detail", "intake_id") if prefix else None
    record_url = id_links(f"{prefix}.patient_health", "patient_id") if prefix else None
    notes: dict[int, dict[str, Any]] = {}
    for appointment in appointments:
        intake = intakes.get(appointment.id)
        labels = [
            staff.flag_label(flag, flag.intake.questionnaire.definition if flag.intake else None)
            for flag in flags.get(appointment.patient_id or 0, [])
        ]
        if intake is not None:
            status = ("Urgent: " if intake.urgent else "") + INTAKE_WORDS[intake.status]
        else:
            status = "Not started" if appointment.is_first_visit else "None"
        notes[appointment.id] = {
            "flags": labels,
            "intake": status,
            "intake_url": intake_url(intake.id) if intake_url and intake is not None else None,
            "record_url": record_url(appointment.patient_id)
            if record_url and appointment.patient_id
            else None,
        }
    return notes
