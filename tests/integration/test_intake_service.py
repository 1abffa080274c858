"""Intake services on both engines: drafts, flags, versions, consent, queue, reminders."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from booking.domain.errors import InvalidInput, PolicyRefused
from booking.domain.intake.questionnaire_v1 import FIRST_VISIT_INTAKE_V1
from booking.extensions import db
from booking.intake import summary
from booking.models import (
    Appointment,
    BookingDraft,
    Consent,
    ConsentMethod,
    IntakeResponse,
    IntakeStatus,
    Modality,
    OutboxMessage,
    PatientFlag,
    Role,
    User,
)
from booking.services.intake import answers, links, pages, reminders, versions
from booking.services.intake import consent as consent_service
from booking.services.intake import staff as staff_service
from tests.web.intake_helpers import (
    CALM_ANSWERS,
    book_first_visit,
    demo_patient_id,
    guest_patient_id,
)

NOW = datetime.now(UTC)


def _start(app: Flask, **kwargs: object) -> int:
    booked = book_first_visit(app, guest_patient_id(app), **kwargs)
    with app.app_context():
        appointment = db.session.get(Appointment, booked.appointment_id)
        intake = answers.start_intake(appointment, now=NOW)
        db.session.commit()
        return intake.id


def _answer_all(intake: IntakeResponse, **overrides: dict[str, object]) -> None:
    for page_key, values in CALM_ANSWERS.items():
        answers.save_page(
            intake,
            page_key,
            {**values, **overrides.get(page_key, {})},
            complete=True,
            actor=None,
            now=NOW,
        )


def _active_codes(patient_id: int) -> set[str]:
    return set(
        db.session.scalars(
            select(PatientFlag.code).where(
                PatientFlag.patient_id == patient_id, PatientFlag.cleared_at.is_(None)
            )
        )
    )


def test_migration_publishes_version_1_and_five_consent_texts(app: Flask) -> None:
    with app.app_context():
        version = versions.latest_version()
        assert (version.key, version.version) == ("first_visit_intake", 1)
        assert version.definition == FIRST_VISIT_INTAKE_V1
        for modality in Modality:
            assert consent_service.current_text(modality).version == 1


def test_start_is_idempotent_and_uses_the_latest_version(demo: Flask) -> None:
    intake_id = _start(demo)
    with demo.app_context():
        intake = db.session.get(IntakeResponse, intake_id)
        again = answers.start_intake(intake.appointment, now=NOW)
        assert again.id == intake_id
        assert intake.status == IntakeStatus.draft
        assert pages.resume_page(intake) == "concern"
        assert pages.flow(intake)[-1] == "consent-needling"


def test_drafts_resume_at_the_first_unanswered_page(demo: Flask) -> None:
    intake_id = _start(demo)
    with demo.app_context():
        intake = db.session.get(IntakeResponse, intake_id)
        for page_key in ("concern", "onset", "pain"):
            answers.save_page(
                intake, page_key, CALM_ANSWERS[page_key], complete=True, actor=None, now=NOW
            )
        # "Save and come back later" on page 4 keeps what is there but does not complete it.
        answers.save_page(
            intake, "daily_life", {"peg_enjoyment": "2"}, complete=False, actor=None, now=NOW
        )
        db.session.commit()
    with demo.app_context():
        intake = db.session.get(IntakeResponse, intake_id)
        assert pages.resume_page(intake) == "daily_life"
        assert intake.answers["peg_enjoyment"] == "2"
        assert intake.answers["concern"] == CALM_ANSWERS["concern"]["concern"]


@pytest.mark.parametrize("key", list(CALM_ANSWERS["warning_signs"]))
def test_each_red_flag_marks_urgent_and_queues(demo: Flask, key: str) -> None:
    intake_id = _start(demo)
    with demo.app_context():
        intake = db.session.get(IntakeResponse, intake_id)
        raised = answers.save_page(
            intake,
            "warning_signs",
            {**CALM_ANSWERS["warning_signs"], key: "yes"},
            complete=True,
            actor=None,
            now=NOW,
        )
        db.session.commit()
        assert raised == [key]
        assert intake.urgent is True
        assert _active_codes(intake.patient_id) == {key}
        assert [i.id for i in staff_service.review_queue()][0] == intake_id


def test_changed_answer_clears_its_flag_and_submit_supersedes_older_intakes(demo: Flask) -> None:
    intake_id = _start(demo)
    with demo.app_context():
        intake = db.session.get(IntakeResponse, intake_id)
        _answer_all(intake, medicines={"anticoagulants": "yes"}, implants={"implants": "yes"})
        assert _active_codes(intake.patient_id) == {"bleeding_risk", "no_electro"}
        answers.save_page(
            intake, "implants", {"implants": "no"}, complete=True, actor=None, now=NOW
        )
        assert _active_codes(intake.patient_id) == {"bleeding_risk"}
        answers.submit_intake(intake, actor=None, now=NOW)
        db.session.commit()
        patient_id = intake.patient_id
    later = book_first_visit(demo, patient_id)
    with demo.app_context():
        newer = answers.start_intake(db.session.get(Appointment, later.appointment_id), now=NOW)
        _answer_all(newer)
        answers.submit_intake(newer, actor=None, now=NOW)
        db.session.commit()
        assert _active_codes(patient_id) == set()


def test_submit_needs_every_page_and_happens_once(demo: Flask) -> None:
    intake_id = _start(demo)
    with demo.app_context():
        intake = db.session.get(IntakeResponse, intake_id)
        with pytest.raises(InvalidInput) as missing:
            answers.submit_intake(intake, actor=None, now=NOW)
        assert missing.value.field == "concern"
        _answer_all(intake)
        answers.submit_intake(intake, actor=None, now=NOW)
        with pytest.raises(PolicyRefused):
            answers.submit_intake(intake, actor=None, now=NOW)
        with pytest.raises(PolicyRefused):
            answers.save_page(
                intake, "onset", {"onset": "over_a_year"}, complete=True, actor=None, now=NOW
            )


def test_new_version_keeps_old_answers_readable_as_asked(demo: Flask) -> None:
    intake_id = _start(demo)
    with demo.app_context():
        intake = db.session.get(IntakeResponse, intake_id)
        _answer_all(intake)
        answers.submit_intake(intake, actor=None, now=NOW)
        v2 = copy.deepcopy(FIRST_VISIT_INTAKE_V1)
        v2["version"] = 2
        onset = v2["pages"][1]["questions"][0]
        onset["label"] = "How long have you had this problem?"
        onset["options"] = [["weeks", "A few weeks"], ["months", "Months"], ["years", "Years"]]
        v2["pages"] = [p for p in v2["pages"] if p["key"] != "gp"]
        versions.publish_version("first_visit_intake", v2, now=NOW)
        db.session.commit()
        patient_id = intake.patient_id
    later = book_first_visit(demo, patient_id)
    with demo.app_context():
        old = db.session.get(IntakeResponse, intake_id)
        assert old.questionnaire.version == 1
        rows = {row.key: row for s in summary.sections(old) for row in s.rows}
        assert rows["onset"].label == "When did it start?"
        assert rows["onset"].value == "3 to 12 months ago"
        assert "gp_name" in rows
        newer = answers.start_intake(db.session.get(Appointment, later.appointment_id), now=NOW)
        assert newer.questionnaire.version == 2
        assert newer.prefilled_from_id == intake_id
        assert "onset" not in newer.answers  # v1's answer is not an option of v2
        assert pages.resume_page(newer) == "onset"
        new_rows = {row.key: row for s in summary.sections(newer) for row in s.rows}
        assert new_rows["onset"].label == "How long have you had this problem?"
        assert "gp_name" not in new_rows


def test_returning_patient_gets_a_prefilled_copy(demo: Flask) -> None:
    intake_id = _start(demo)
    with demo.app_context():
        intake = db.session.get(IntakeResponse, intake_id)
        _answer_all(intake, pregnancy={"pregnancy": "maybe"})
        answers.submit_intake(intake, actor=None, now=NOW)
        db.session.commit()
        patient_id = intake.patient_id
    later = book_first_visit(demo, patient_id)
    with demo.app_context():
        newer = answers.start_intake(db.session.get(Appointment, later.appointment_id), now=NOW)
        assert newer.prefilled_from_id == intake_id
        assert newer.answers["concern"] == CALM_ANSWERS["concern"]["concern"]
        assert "rf_fever" not in newer.answers
        assert "pregnancy" not in newer.answers
        assert pages.missing_pages(newer) == ["warning_signs", "pregnancy", "consent-needling"]
        old = db.session.get(IntakeResponse, intake_id)
        assert old.answers["pregnancy"] == "maybe"  # the copy never touches the original


@pytest.mark.parametrize(
    ("safety", "prefilled", "urgent"), [("no", "no", False), ("yes", None, True)]
)
def test_booking_safety_answer_prefills_red_flags(
    demo: Flask, safety: str, prefilled: str | None, urgent: bool
) -> None:
    booked = book_first_visit(demo, guest_patient_id(demo))
    with demo.app_context():
        appointment = db.session.get(Appointment, booked.appointment_id)
        appointment.hold_owner = "b" * 64
        db.session.add(
            BookingDraft(
                key_hash="b" * 64,
                answers={"booked_id": appointment.id, "safety": safety},
                expires_at=NOW + timedelta(hours=1),
            )
        )
        db.session.commit()
        intake = answers.start_intake(appointment, now=NOW)
        assert intake.answers.get("rf_saddle_numbness") == prefilled
        assert intake.urgent is urgent
        assert "warning_signs" not in intake.completed_pages  # the patient still confirms them


def test_one_current_consent_per_modality_keeps_version_time_and_method(demo: Flask) -> None:
    patient_id = guest_patient_id(demo)
    with demo.app_context():
        from booking.models import PatientProfile

        patient = db.session.get(PatientProfile, patient_id)
        staff = db.session.scalar(select(User).where(User.role == Role.receptionist))
        first = consent_service.record_consent(
            patient, Modality.cupping, method=ConsentMethod.paper, actor=staff, now=NOW
        )
        second = consent_service.record_consent(
            patient, Modality.cupping, method=ConsentMethod.verbal, actor=staff, now=NOW
        )
        db.session.commit()
        current = consent_service.current_consents(patient_id)
        assert current[Modality.cupping].id == second.id
        assert first.ended_at == NOW
        assert second.consent_text.version == 1
        assert second.recorded_by_id == staff.id
        assert second.method == ConsentMethod.verbal
        # The database refuses a second current row, whatever the code does.
        db.session.add(
            Consent(
                patient_id=patient_id,
                modality=Modality.cupping,
                consent_text_id=second.consent_text_id,
                given_at=NOW,
                method=ConsentMethod.paper,
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_online_consent_page_records_and_no_withdraws(demo: Flask) -> None:
    intake_id = _start(demo)
    with demo.app_context():
        intake = db.session.get(IntakeResponse, intake_id)
        answers.save_page(
            intake,
            "consent-needling",
            {"consent_needling": "yes"},
            complete=True,
            actor=None,
            now=NOW,
        )
        consent = consent_service.current_consents(intake.patient_id)[Modality.needling]
        assert (consent.method, consent.intake_id) == (ConsentMethod.online, intake_id)
        answers.save_page(
            intake,
            "consent-needling",
            {"consent_needling": "no"},
            complete=True,
            actor=None,
            now=NOW,
        )
        assert Modality.needling not in consent_service.current_consents(intake.patient_id)
        assert consent.withdrawn is True


def test_queue_review_and_reminders(demo: Flask) -> None:
    routine_id, urgent_id = _start(demo), _start(demo)
    waiting = book_first_visit(demo, demo_patient_id(demo))
    with demo.app_context():
        routine = db.session.get(IntakeResponse, routine_id)
        _answer_all(routine)
        answers.submit_intake(routine, actor=None, now=NOW)
        urgent = db.session.get(IntakeResponse, urgent_id)
        answers.save_page(
            urgent,
            "warning_signs",
            {**CALM_ANSWERS["warning_signs"], "rf_fever": "yes"},
            complete=True,
            actor=None,
            now=NOW,
        )
        db.session.commit()
        assert [i.id for i in staff_service.review_queue()] == [urgent_id, routine_id]
        receptionist = db.session.scalar(select(User).where(User.role == Role.receptionist))
        staff_service.review_intake(routine, "Read, nothing to add", actor=receptionist, now=NOW)
        db.session.commit()
        assert [i.id for i in staff_service.review_queue()] == [urgent_id]
        assert routine.reviewer_id == receptionist.id
        assert waiting.appointment_id in [a.id for a in staff_service.awaiting_completion(now=NOW)]
        appointment = db.session.get(Appointment, waiting.appointment_id)
        reminders.send_reminder(
            appointment,
            actor=receptionist,
            now=NOW,
            secret=demo.config["SECRET_KEY"],
            base_url="https://clinic.example/",
            clinic_name="Meridian",
        )
        db.session.commit()
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "intake.reminder")
        )
        assert f"/intake/start/{waiting.appointment_id}/{waiting.token}" in message.body_text
        with pytest.raises(PolicyRefused):
            reminders.send_reminder(
                appointment,
                actor=receptionist,
                now=NOW + timedelta(hours=1),
                secret=demo.config["SECRET_KEY"],
                base_url="https://clinic.example/",
                clinic_name="Meridian",
            )
        count = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        assert count == 1


def test_who_may_read_an_intake(demo: Flask) -> None:
    booked = book_first_visit(demo, guest_patient_id(demo), practitioner="Tom Okafor")
    with demo.app_context():
        by_role = {
            role: db.session.scalar(
                select(User).where(User.role == role).order_by(User.id).limit(1)
            )
            for role in Role
        }
        tom = db.session.scalar(select(User).where(User.email == "tom.okafor@meridian.example"))
        mei = db.session.scalar(select(User).where(User.email == "mei.chen@meridian.example"))
        assert staff_service.staff_may_read(booked.patient_id, actor=by_role[Role.receptionist])
        assert staff_service.staff_may_read(booked.patient_id, actor=tom)
        assert not staff_service.staff_may_read(booked.patient_id, actor=mei)
        assert not staff_service.staff_may_read(booked.patient_id, actor=by_role[Role.admin])


def test_link_token_is_tied_to_the_manage_link(demo: Flask) -> None:
    booked = book_first_visit(demo, guest_patient_id(demo))
    secret = demo.config["SECRET_KEY"]
    with demo.app_context():
        found = links.appointment_for_link(
            booked.appointment_id, booked.token, secret=secret, now=NOW
        )
        assert found.id == booked.appointment_id
        from booking.domain.errors import NotFound

        # Change the last character to a different one (it may already be "A").
        altered = booked.token[:-1] + ("B" if booked.token.endswith("A") else "A")
        for token in ("", altered, "x" * 200):
            with pytest.raises(NotFound):
                links.appointment_for_link(booked.appointment_id, token, secret=secret, now=NOW)
        with pytest.raises(NotFound):
            links.appointment_for_link(
                booked.appointment_id, booked.token, secret="other" * 9, now=NOW
            )
        with pytest.raises(NotFound):  # after the session ends
            links.appointment_for_link(
                booked.appointment_id, booked.token, secret=secret, now=NOW + timedelta(days=400)
            )
        found.manage_token_hash = "0" * 64  # a new manage link was sent
        with pytest.raises(NotFound):
            links.appointment_for_link(booked.appointment_id, booked.token, secret=secret, now=NOW)
