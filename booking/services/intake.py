"""Intake: start, save page by page, submit, review, remind; flags from the pure rules.

Guest access: the link after booking is `/intake/start/<appointment id>/<token>` where the token
is HMAC-SHA256(SECRET_KEY, appointment id + the appointment's manage-token hash). Nothing new is
stored; the link dies with the manage link (a new manage link or the session ending), and the
database alone cannot forge it. Starting binds the intake to the browser's random key (its
SHA-256 is kept), so later pages carry no token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import selectinload

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    BookingDraft,
    ConsentMethod,
    IntakeResponse,
    IntakeStatus,
    Modality,
    PatientFlag,
    PatientProfile,
    Practitioner,
    QuestionnaireVersion,
    Role,
    User,
)
from booking.scheduling import intake_rules as rules
from booking.scheduling.errors import InvalidInput, NotFound, PolicyRefused
from booking.services import consent as consent_service
from booking.services import outbox
from booking.services.audit import record_event

INTAKE_KEY = "first_visit_intake"
CONSENT_PAGE_PREFIX = "consent-"
CHECK_PAGE = "check"
REMINDER_GAP = timedelta(hours=24)
BAD_LINK = "This link has expired or is not valid."


# ---- Versions and the page flow ---------------------------------------------------------------


def latest_version(key: str = INTAKE_KEY) -> QuestionnaireVersion:
    """The newest published version of a questionnaire.

    Raises NotFound when none is published (the intake migration publishes version 1).
    """
    version = db.session.scalar(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.key == key)
        .order_by(QuestionnaireVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFound("There are no health questions to answer.")
    return version


def publish_version(key: str, definition: dict[str, Any], *, now: datetime) -> QuestionnaireVersion:
    """Publish a new version of a questionnaire; earlier versions and answers stay as they are."""
    current = db.session.scalar(
        select(QuestionnaireVersion.version)
        .where(QuestionnaireVersion.key == key)
        .order_by(QuestionnaireVersion.version.desc())
        .limit(1)
    )
    version = QuestionnaireVersion(
        key=key, version=(current or 0) + 1, definition=definition, published_at=now
    )
    db.session.add(version)
    db.session.flush()
    return version


def consent_modalities(intake: IntakeResponse) -> list[Modality]:
    appointment = intake.appointment
    return consent_service.modalities_of(appointment.session_type.modalities if appointment else "")


def consent_page_key(modality: Modality) -> str:
    return f"{CONSENT_PAGE_PREFIX}{modality.value.replace('_', '-')}"


def consent_answer_key(modality: Modality) -> str:
    return f"consent_{modality.value}"


def modality_of_page(page_key: str) -> Modality | None:
    if not page_key.startswith(CONSENT_PAGE_PREFIX):
        return None
    name = page_key.removeprefix(CONSENT_PAGE_PREFIX).replace("-", "_")
    return Modality(name) if name in Modality.__members__ else None


def flow(intake: IntakeResponse) -> list[str]:
    """Every page of this intake in order: its questionnaire's pages, then one per consent."""
    definition = intake.questionnaire.definition
    return [*rules.page_keys(definition), *map(consent_page_key, consent_modalities(intake))]


def resume_page(intake: IntakeResponse) -> str:
    """The first page not yet answered, or the check page when all are."""
    return rules.first_unanswered(flow(intake), intake.completed_pages or []) or CHECK_PAGE


def next_page(intake: IntakeResponse, page_key: str) -> str:
    """The page after `page_key`: the first unanswered one after it, else check answers."""
    keys = flow(intake)
    later = keys[keys.index(page_key) + 1 :] if page_key in keys else keys
    done = set(intake.completed_pages or [])
    return next((key for key in later if key not in done), None) or resume_page(intake)


def previous_page(intake: IntakeResponse, page_key: str) -> str | None:
    keys = flow(intake)
    if page_key == CHECK_PAGE:
        return keys[-1] if keys else None
    index = keys.index(page_key) if page_key in keys else 0
    return keys[index - 1] if index > 0 else None


# ---- Guest links ------------------------------------------------------------------------------


def link_token(appointment: Appointment, *, secret: str) -> str | None:
    """The intake link token for an appointment, or None when it has no manage link."""
    if not appointment.manage_token_hash:
        return None
    message = f"intake:{appointment.id}:{appointment.manage_token_hash}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def appointment_for_link(
    appointment_id: int, token: str, *, secret: str, now: datetime
) -> Appointment:
    """The appointment an intake link opens.

    Raises NotFound for a wrong or stale token, or a session that has ended or is not live.
    """
    appointment = db.session.get(Appointment, appointment_id)
    expected = link_token(appointment, secret=secret) if appointment is not None else None
    if (
        appointment is None
        or expected is None
        or not token
        or len(token) > 100
        or not hmac.compare_digest(expected, token)
        or appointment.patient_id is None
        or appointment.status not in (AppointmentStatus.booked, AppointmentStatus.checked_in)
        or appointment.ends_at <= now
    ):
        raise NotFound(BAD_LINK)
    return appointment


def browser_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def may_answer(intake: IntakeResponse, *, user: Any, guest_key_hash: str | None) -> bool:
    """The patient who owns the intake, or the browser that opened its link.

    A signed-in patient never reaches another account's intake, link or not.
    """
    owner_user_id = intake.patient.user_id
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    if signed_in and user.role == Role.patient and owner_user_id == user.id:
        return True
    if signed_in and owner_user_id is not None:
        return False
    return guest_key_hash is not None and hmac.compare_digest(
        intake.guest_key_hash or "", guest_key_hash
    )


# ---- Starting ---------------------------------------------------------------------------------


def booking_safety_answer(appointment: Appointment, *, now: datetime) -> str | None:
    """The booking journey's "Do any of these apply?" answer, while its draft still exists."""
    if not appointment.hold_owner:
        return None
    draft = db.session.scalar(
        select(BookingDraft).where(BookingDraft.key_hash == appointment.hold_owner)
    )
    if draft is None or draft.expires_at <= now:
        return None
    answers = draft.answers or {}
    if answers.get("booked_id") != appointment.id:
        return None
    return answers.get("safety")


def last_answered(patient_id: int, *, excluding: int | None = None) -> IntakeResponse | None:
    """The patient's most recent submitted or reviewed intake."""
    query = (
        select(IntakeResponse)
        .where(
            IntakeResponse.patient_id == patient_id,
            IntakeResponse.status.in_([IntakeStatus.submitted, IntakeStatus.reviewed]),
        )
        .order_by(IntakeResponse.submitted_at.desc(), IntakeResponse.id.desc())
        .limit(1)
    )
    if excluding is not None:
        query = query.where(IntakeResponse.id != excluding)
    return db.session.scalar(query)


def intake_for_appointment(appointment_id: int) -> IntakeResponse | None:
    return db.session.scalar(
        select(IntakeResponse).where(IntakeResponse.appointment_id == appointment_id)
    )


def start_intake(
    appointment: Appointment,
    *,
    now: datetime,
    actor: User | None = None,
    guest_key_hash: str | None = None,
) -> IntakeResponse:
    """The appointment's intake, created on first use and bound to a guest browser if given.

    A returning patient's copy is prefilled from their last answers (red flags and
    pregnancy excepted); a first-visit "none apply" at booking prefills the red-flag
    answers with "no" for the patient to confirm, and a "yes" there marks it urgent.
    """
    intake = intake_for_appointment(appointment.id)
    if intake is None:
        version = latest_version()
        answers: dict[str, Any] = {}
        done: list[str] = []
        previous = last_answered(appointment.patient_id) if appointment.patient_id else None
        if previous is not None:
            answers, done = rules.carry_over(version.definition, previous.answers or {})
        safety = booking_safety_answer(appointment, now=now)
        if safety == "no":
            for question in rules.questions(version.definition):
                if question.get("red_flag"):
                    answers.setdefault(question["key"], "no")
        intake = IntakeResponse(
            patient_id=appointment.patient_id,
            patient=appointment.patient,
            questionnaire=version,
            appointment=appointment,
            answers=answers,
            completed_pages=done,
            urgent=safety == "yes",
            prefilled_from_id=previous.id if previous is not None else None,
            created_at=now,
            updated_at=now,
        )
        db.session.add(intake)
        db.session.flush()
        record_event(
            "intake.start",
            actor=actor,
            now=now,
            object_type="intake",
            object_id=intake.id,
            patient_id=intake.patient_id,
        )
    if guest_key_hash is not None:
        intake.guest_key_hash = guest_key_hash
    return intake


# ---- Saving -----------------------------------------------------------------------------------


def page_questions(intake: IntakeResponse, page_key: str) -> Mapping[str, Any]:
    """The definition of one page of the intake (a consent page is built from its text).

    Raises NotFound for a page this intake does not have.
    """
    modality = modality_of_page(page_key)
    if modality is not None and modality in consent_modalities(intake):
        text = consent_service.current_text(modality)
        label = consent_service.MODALITY_LABELS[modality]
        return {
            "key": page_key,
            "title": f"Consent to {label.lower()}",
            "consent_text": text,
            "modality": modality,
            "questions": [
                {
                    "key": consent_answer_key(modality),
                    "type": "radios",
                    "label": f"Do you agree to {label.lower()}?",
                    "options": [["yes", "Yes, I agree"], ["no", "No"]],
                    "inline": True,
                    "required": True,
                    "error": f"Select yes if you agree to {label.lower()}",
                }
            ],
        }
    page = rules.find_page(intake.questionnaire.definition, page_key)
    if page is None:
        raise NotFound("That page of the health questions does not exist.")
    return page


def save_page(
    intake: IntakeResponse,
    page_key: str,
    values: Mapping[str, Any],
    *,
    complete: bool,
    actor: User | None,
    now: datetime,
) -> list[str]:
    """Keep one page's answers (a draft); return the red-flag keys answered "yes" on it.

    `complete` marks the page answered (its answers passed validation); "Save and come
    back later" stores what is given without it. A red flag marks the intake urgent at once.
    Raises PolicyRefused once the intake has been sent.
    """
    if intake.status != IntakeStatus.draft:
        raise PolicyRefused("You have already sent your answers.")
    page = page_questions(intake, page_key)
    keys = [question["key"] for question in page["questions"]]
    answers = {key: value for key, value in (intake.answers or {}).items() if key not in keys}
    for question in page["questions"]:
        value = values.get(question["key"])
        if value not in (None, "", []) and rules.is_valid_answer(question, value):
            answers[question["key"]] = value
    intake.answers = answers
    done = [key for key in (intake.completed_pages or []) if key != page_key]
    if complete:
        done.append(page_key)
    intake.completed_pages = done
    intake.current_page = page_key
    intake.updated_at = now
    modality = page.get("modality")
    if modality is not None and complete:
        _consent_from_answer(intake, modality, answers.get(keys[0]), now=now)
    raised = [key for key in rules.red_flag_answers({"pages": [page]}, answers) if key in keys]
    if raised:
        intake.urgent = True
    sync_flags(intake, now=now)
    record_event(
        "intake.update",
        actor=actor,
        now=now,
        object_type="intake",
        object_id=intake.id,
        patient_id=intake.patient_id,
        detail=f"page {page_key}",
    )
    return raised


def _consent_from_answer(
    intake: IntakeResponse, modality: Modality, answer: Any, *, now: datetime
) -> None:
    current = consent_service.current_consents(intake.patient_id).get(modality)
    if answer == "yes":
        text = consent_service.current_text(modality)
        if current is None or current.consent_text_id != text.id or current.intake_id != intake.id:
            consent_service.record_consent(
                intake.patient,
                modality,
                method=ConsentMethod.online,
                actor=None,
                now=now,
                intake_id=intake.id,
            )
    elif current is not None:
        consent_service.withdraw_consent(intake.patient, modality, actor=None, now=now)


def sync_flags(intake: IntakeResponse, *, now: datetime, supersede: bool = False) -> None:
    """Make the patient's active flags match what the rules derive from this intake.

    Flags from this intake that its answers no longer imply are cleared; with `supersede`
    (on submit) so are older intakes' contraindications and precautions. Red flags from
    older intakes stay until staff deal with them.
    """
    derived = {
        flag.code: flag
        for flag in rules.derive_flags(intake.questionnaire.definition, intake.answers or {})
    }
    active = list(
        db.session.scalars(
            select(PatientFlag).where(
                PatientFlag.patient_id == intake.patient_id, PatientFlag.cleared_at.is_(None)
            )
        )
    )
    have = {flag.code for flag in active}
    for flag in active:
        if flag.code in derived:
            continue
        if flag.intake_id == intake.id:
            flag.cleared_at, flag.cleared_reason = now, "Answer changed"
        elif supersede and flag.severity != rules.RED_FLAG:
            flag.cleared_at, flag.cleared_reason = now, "Newer health questions"
    for code, found in derived.items():
        if code not in have:
            db.session.add(
                PatientFlag(
                    patient_id=intake.patient_id,
                    code=code,
                    severity=found.severity,
                    source="intake",
                    intake_id=intake.id,
                    created_at=now,
                )
            )
    db.session.flush()


def missing_pages(intake: IntakeResponse) -> list[str]:
    done = set(intake.completed_pages or [])
    return [key for key in flow(intake) if key not in done]


def submit_intake(intake: IntakeResponse, *, actor: User | None, now: datetime) -> IntakeResponse:
    """Send the answers to the clinic.

    Raises InvalidInput naming the first unanswered page, PolicyRefused when already sent.
    """
    if intake.status != IntakeStatus.draft:
        raise PolicyRefused("You have already sent your answers.")
    missing = missing_pages(intake)
    if missing:
        raise InvalidInput("Answer every question before you send your answers", field=missing[0])
    intake.status = IntakeStatus.submitted
    intake.submitted_at = now
    intake.updated_at = now
    sync_flags(intake, now=now, supersede=True)
    record_event(
        "intake.submit",
        actor=actor,
        now=now,
        object_type="intake",
        object_id=intake.id,
        patient_id=intake.patient_id,
    )
    return intake


# ---- Patients' own list -----------------------------------------------------------------------


def intakes_of_patient(patient_id: int) -> list[IntakeResponse]:
    return list(
        db.session.scalars(
            select(IntakeResponse)
            .where(IntakeResponse.patient_id == patient_id)
            .options(
                selectinload(IntakeResponse.appointment).selectinload(Appointment.session_type),
                selectinload(IntakeResponse.appointment).selectinload(Appointment.location),
            )
            .order_by(IntakeResponse.created_at.desc(), IntakeResponse.id.desc())
        )
    )


def upcoming_without_intake(patient_id: int, *, now: datetime) -> list[Appointment]:
    """The patient's upcoming sessions that have no intake yet."""
    return list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.patient_id == patient_id,
                Appointment.status == AppointmentStatus.booked,
                Appointment.starts_at > now,
                ~exists().where(IntakeResponse.appointment_id == Appointment.id),
            )
            .options(selectinload(Appointment.session_type), selectinload(Appointment.location))
            .order_by(Appointment.starts_at)
        )
    )


# ---- Staff ------------------------------------------------------------------------------------


def practitioner_of(user: User) -> Practitioner | None:
    return db.session.scalar(select(Practitioner).where(Practitioner.user_id == user.id))


def staff_may_read(patient_id: int, *, actor: User) -> bool:
    """Receptionists read every patient's intake; practitioners those they see; admins none."""
    if actor.role == Role.receptionist:
        return True
    if actor.role != Role.practitioner:
        return False
    practitioner = practitioner_of(actor)
    if practitioner is None:
        return False
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Appointment.patient_id == patient_id,
                    Appointment.practitioner_id == practitioner.id,
                    Appointment.status != AppointmentStatus.held,
                )
            )
        )
    )


def intake_for_staff(intake_id: int, *, actor: User) -> IntakeResponse:
    """An intake a member of staff may read. Raises NotFound otherwise."""
    intake = db.session.get(IntakeResponse, intake_id)
    if intake is None or not staff_may_read(intake.patient_id, actor=actor):
        raise NotFound("There are no health questions here.")
    return intake


def patient_for_staff(patient_id: int, *, actor: User) -> PatientProfile:
    """A patient record a member of staff may read. Raises NotFound otherwise."""
    patient = db.session.get(PatientProfile, patient_id)
    if patient is None or not staff_may_read(patient_id, actor=actor):
        raise NotFound("There is no patient here.")
    return patient


def active_flags(patient_ids: Iterable[int]) -> dict[int, list[PatientFlag]]:
    """Each patient's active flags, red flags first, in one query."""
    ids = sorted(set(patient_ids))
    found: dict[int, list[PatientFlag]] = {patient_id: [] for patient_id in ids}
    if not ids:
        return found
    rows = db.session.scalars(
        select(PatientFlag)
        .where(PatientFlag.patient_id.in_(ids), PatientFlag.cleared_at.is_(None))
        .options(selectinload(PatientFlag.intake).selectinload(IntakeResponse.questionnaire))
        .order_by(PatientFlag.patient_id, PatientFlag.id)
    )
    for row in rows:
        found[row.patient_id].append(row)
    for flags in found.values():
        flags.sort(key=lambda flag: (flag.severity != rules.RED_FLAG, flag.code))
    return found


def flag_label(flag: PatientFlag, definition: Mapping[str, Any] | None = None) -> str:
    """A flag as words: "Red flag: saddle numbness", "Bleeding risk (precaution)"."""
    if flag.severity == rules.RED_FLAG:
        source = definition or {}
        question = next((q for q in rules.questions(source) if q["key"] == flag.code), None)
        short = (
            question.get("short") if question else flag.code.removeprefix("rf_").replace("_", " ")
        )
        return f"Red flag: {str(short).lower()}"
    info = rules.FLAG_CATALOGUE.get(flag.code)
    label = info.label if info else flag.code.replace("_", " ").capitalize()
    return f"{label} ({flag.severity.value})"


def intakes_for_appointments(appointment_ids: Sequence[int]) -> dict[int, IntakeResponse]:
    if not appointment_ids:
        return {}
    rows = db.session.scalars(
        select(IntakeResponse).where(IntakeResponse.appointment_id.in_(appointment_ids))
    )
    return {row.appointment_id: row for row in rows if row.appointment_id is not None}


def review_queue() -> list[IntakeResponse]:
    """Intakes awaiting review: urgent first (a red flag counts even in a draft), then oldest."""
    return list(
        db.session.scalars(
            select(IntakeResponse)
            .where(
                IntakeResponse.status != IntakeStatus.reviewed,
                or_(
                    IntakeResponse.status == IntakeStatus.submitted, IntakeResponse.urgent.is_(True)
                ),
            )
            .options(
                selectinload(IntakeResponse.patient),
                selectinload(IntakeResponse.appointment).selectinload(Appointment.practitioner),
            )
            .order_by(
                IntakeResponse.urgent.desc(),
                IntakeResponse.submitted_at.is_(None),
                IntakeResponse.submitted_at,
                IntakeResponse.created_at,
                IntakeResponse.id,
            )
        )
    )


def awaiting_completion(*, now: datetime, days: int = 30) -> list[Appointment]:
    """Upcoming first visits whose intake is missing or unfinished (not urgent: that is queued)."""
    unfinished = (
        select(IntakeResponse.id)
        .where(
            IntakeResponse.appointment_id == Appointment.id,
            or_(IntakeResponse.status != IntakeStatus.draft, IntakeResponse.urgent.is_(True)),
        )
        .exists()
    )
    return list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.is_first_visit.is_(True),
                Appointment.status == AppointmentStatus.booked,
                and_(
                    Appointment.starts_at > now, Appointment.starts_at < now + timedelta(days=days)
                ),
                ~unfinished,
            )
            .options(selectinload(Appointment.patient), selectinload(Appointment.practitioner))
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )


def review_intake(intake: IntakeResponse, comment: str, *, actor: User, now: datetime) -> None:
    """Mark an intake reviewed with a comment. Raises PolicyRefused if already reviewed."""
    if intake.status == IntakeStatus.reviewed:
        raise PolicyRefused("These answers have already been reviewed.")
    intake.status = IntakeStatus.reviewed
    intake.reviewed_at = now
    intake.reviewer_id = actor.id
    intake.review_comment = comment.strip() or None
    intake.updated_at = now
    record_event(
        "intake.review",
        actor=actor,
        now=now,
        object_type="intake",
        object_id=intake.id,
        patient_id=intake.patient_id,
    )


def send_reminder(
    appointment: Appointment,
    *,
    actor: User,
    now: datetime,
    secret: str,
    base_url: str,
    clinic_name: str,
) -> IntakeResponse:
    """Email the patient a link to finish their health questions (through the outbox).

    Raises PolicyRefused when answers were already sent or a reminder went in the last day,
    NotFound for a session that is not upcoming.
    """
    from booking.templating import format_date, format_time

    if appointment.status != AppointmentStatus.booked or appointment.starts_at <= now:
        raise NotFound("That session is not coming up.")
    intake = start_intake(appointment, now=now, actor=actor)
    if intake.status != IntakeStatus.draft:
        raise PolicyRefused("This patient has already sent their answers.")
    if intake.reminded_at is not None and now - intake.reminded_at < REMINDER_GAP:
        raise PolicyRefused("A reminder was sent in the last 24 hours.")
    patient = appointment.patient
    if patient is None:  # only holds have none, and this session is booked
        raise NotFound("That session is not coming up.")
    token = link_token(appointment, secret=secret)
    from zoneinfo import ZoneInfo

    start = appointment.starts_at.astimezone(ZoneInfo(appointment.location.timezone))
    link = (
        f"{base_url.rstrip('/')}/intake/start/{appointment.id}/{token}"
        if token
        else f"{base_url.rstrip('/')}/intake/"
    )
    body = [
        f"Hello {patient.given_name},",
        "",
        f"Before your session on {format_date(start)} at {format_time(start)}, answer a few "
        "health questions so your practitioner can prepare:",
        link,
        "",
        "Your answers are saved as you go, so you can stop and come back.",
        "",
        clinic_name,
    ]
    outbox.enqueue(
        kind="intake.reminder",
        recipient=patient.email,
        subject=f"Health questions before your session – {clinic_name}",
        body_text="\n".join(body),
        dedupe_key=f"intake-reminder:{intake.id}:{int(now.timestamp())}",
        now=now,
    )
    intake.reminded_at = now
    record_event(
        "intake.remind",
        actor=actor,
        now=now,
        object_type="intake",
        object_id=intake.id,
        patient_id=intake.patient_id,
    )
    return intake
