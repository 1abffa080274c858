"""`flask apply-retention`: records past the clinical retention period are anonymised and lose
their clinical content; recent ones and children's records stay. Both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from flask import Flask
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import (
    AftercareCheckin,
    Appointment,
    AuditEvent,
    FlagSeverity,
    IntakeResponse,
    OutcomeMeasure,
    OutcomeRecord,
    PatientFlag,
    PatientProfile,
    PlanAppointment,
    PlanPhase,
    SideEffectReport,
    TreatmentPlan,
)
from booking.services.privacy import retention
from tests.conftest import freeze_clock
from tests.factories import make_appointment, make_intake, make_patient

NOW = datetime(2036, 6, 1, 9, 0, tzinfo=UTC)


def _patient_with_session(starts_at: datetime, **profile: object) -> int:
    patient = make_patient(**profile)
    appointment = make_appointment(patient=patient, starts_at=starts_at)
    intake = make_intake(appointment=appointment, answers={"concern": "private words"})
    db.session.add(
        PatientFlag(
            patient_id=patient.id,
            code="anticoagulants",
            severity=FlagSeverity.precaution,
            source="intake",
            intake_id=intake.id,
        )
    )
    return patient.id


def test_apply_retention_dry_run_then_for_real(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    freeze_clock(monkeypatch, NOW)
    with app.app_context():
        old = _patient_with_session(
            datetime(2027, 3, 1, 9, 0, tzinfo=UTC), date_of_birth=date(1970, 1, 1)
        )
        recent = _patient_with_session(
            datetime(2030, 1, 7, 9, 0, tzinfo=UTC), date_of_birth=date(1970, 1, 1)
        )
        child = _patient_with_session(
            datetime(2027, 3, 2, 9, 0, tzinfo=UTC), date_of_birth=date(2020, 1, 1)
        )
        db.session.commit()
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["apply-retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines() == [
        f"patient {old}: last clinical event 2027-03-01, retention ended 2035-03-01",
        "Dry run: 1 record(s) past 8 years would be anonymised.",
    ]
    with app.app_context():
        assert db.session.get_one(PatientProfile, old).anonymised_at is None

    real = runner.invoke(args=["apply-retention"])
    assert real.exit_code == 0, real.output
    assert real.output.splitlines()[-1] == "Anonymised 1 record(s) past 8 years."
    with app.app_context():
        patient = db.session.get_one(PatientProfile, old)
        assert patient.given_name == "Erased"
        assert patient.date_of_birth is None
        assert patient.clinical_purged_at == NOW
        intake = db.session.scalar(select(IntakeResponse).where(IntakeResponse.patient_id == old))
        assert intake.answers == {}
        assert (
            db.session.scalar(
                select(func.count(PatientFlag.id)).where(PatientFlag.patient_id == old)
            )
            == 0
        )
        assert (
            db.session.scalar(
                select(func.count(Appointment.id)).where(Appointment.patient_id == old)
            )
            == 1
        )  # the dated session stays, with no one behind it
        assert (
            "privacy.retention_purge"
            in db.session.scalars(
                select(AuditEvent.action).where(AuditEvent.patient_id == old)
            ).all()
        )
        for kept in (recent, child):
            assert db.session.get_one(PatientProfile, kept).anonymised_at is None
    assert runner.invoke(args=["apply-retention"]).output.strip() == (
        "Anonymised 0 record(s) past 8 years."
    )


def test_apply_retention_refuses_a_bad_period(sqlite_app: Flask) -> None:
    sqlite_app.config["CLINICAL_RETENTION_YEARS"] = 0
    result = sqlite_app.test_cli_runner().invoke(args=["apply-retention", "--dry-run"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: CLINICAL_RETENTION_YEARS must be a whole number >= 1."
    ]


def _plan_and_aftercare(patient_id: int, scored_at: datetime, reported_at: datetime) -> None:
    """A plan with a phase, its session and one score; a check-in with a side-effect report."""
    appointment = db.session.scalar(select(Appointment).where(Appointment.patient_id == patient_id))
    plan = TreatmentPlan(
        patient_id=patient_id,
        practitioner_id=appointment.practitioner_id,
        location_id=appointment.location_id,
        goal="walk without pain",
        phases=[
            PlanPhase(
                session_type_id=appointment.session_type_id,
                count=4,
                weekday=0,
                local_time=time(9),
            )
        ],
    )
    checkin = AftercareCheckin(
        appointment_id=appointment.id,
        token_hash=f"{patient_id:064d}",
        expires_at=appointment.ends_at,
    )
    db.session.add_all([plan, checkin])
    db.session.flush()
    db.session.add_all(
        [
            PlanAppointment(plan_id=plan.id, appointment_id=appointment.id),
            OutcomeRecord(
                plan_id=plan.id,
                measure=OutcomeMeasure.pain_nrs,
                item1=5,
                score=5.0,
                recorded_at=scored_at,
            ),
            SideEffectReport(
                checkin_id=checkin.id, effects="bruising", detail="sore", created_at=reported_at
            ),
        ]
    )


def test_retention_counts_scores_and_reports_and_purges_plans_and_aftercare(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_clock(monkeypatch, NOW)
    session_at = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    adult = {"date_of_birth": date(1970, 1, 1)}
    with app.app_context():
        old = _patient_with_session(session_at, **adult)
        _plan_and_aftercare(old, session_at, session_at)
        scored_later = _patient_with_session(session_at, **adult)
        _plan_and_aftercare(scored_later, datetime(2029, 1, 1, tzinfo=UTC), session_at)
        reported_later = _patient_with_session(session_at, **adult)
        _plan_and_aftercare(reported_later, session_at, datetime(2029, 1, 1, tzinfo=UTC))
        db.session.flush()
        expired = retention.expired_records(now=NOW, years=8)
        assert [e.patient_id for e in expired] == [old]  # a later score or report counts
        retention.purge(expired[0], now=NOW)
        db.session.commit()
        counts = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (
                TreatmentPlan,
                PlanPhase,
                PlanAppointment,
                OutcomeRecord,
                AftercareCheckin,
                SideEffectReport,
            )
        }
        assert counts == dict.fromkeys(counts, 2)  # the old patient's went, the others' stay
        assert (
            db.session.scalar(
                select(func.count(TreatmentPlan.id)).where(TreatmentPlan.patient_id == old)
            )
            == 0
        )
