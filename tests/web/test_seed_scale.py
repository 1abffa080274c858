"""`flask seed-scale` (issue 22): the chain-scale data on both engines, and its refusals."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import func, select, text

from booking.demo.scale import count_overlaps
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Location,
    OutcomeRecord,
    PatientProfile,
    PlanAppointment,
    Practitioner,
    Room,
    SessionType,
    TreatmentPlan,
    User,
    WorkingHours,
)
from tests.conftest import seed_demo, sign_in

PASSWORD = "scale-password-for-tests"  # noqa: S105 - a test sign-in
ARGS = [
    "seed-scale",
    "--locations",
    "2",
    "--practitioners",
    "5",
    "--patients",
    "60",
    "--appointments",
    "700",
    "--plans",
    "4",
    "--password",
    PASSWORD,
]


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_seed_scale_fills_an_empty_database_then_refuses_a_second_run(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=ARGS)
    assert result.exit_code == 0, result.output
    assert "700 appointments" in result.output
    assert PASSWORD in result.output
    now = datetime.now(UTC)
    with app.app_context():
        assert _count(Clinic) == 1
        assert _count(Location) == 2
        assert _count(Room) == 6
        assert _count(SessionType) == 4
        assert _count(Practitioner) == 5
        assert _count(WorkingHours) == 25  # five weekdays each
        # Five practitioners, reception, admin, and patients 1, 11, ... 51 have accounts.
        assert _count(User) == 13
        accounts = db.session.scalars(
            select(PatientProfile.id).where(PatientProfile.user_id.is_not(None))
        )
        assert sorted(accounts) == [1, 11, 21, 31, 41, 51]
        assert _count(PatientProfile) == 60
        assert _count(Appointment) == 700
        assert _count(TreatmentPlan) == 4
        assert _count(PlanAppointment) >= 4
        assert _count(OutcomeRecord) >= 1
        # Past and future both hold sessions; the guards are back and nothing overlaps.
        past = select(func.count()).where(Appointment.starts_at < now)
        future = select(func.count()).where(Appointment.starts_at > now)
        assert db.session.scalar(past.select_from(Appointment))
        assert db.session.scalar(future.select_from(Appointment))
        assert count_overlaps(db.session.connection()) == 0
        # The availability stamps were set after the bulk load, and its triggers are back: a
        # cancelled session moves its practitioner's stamp on.
        stamp = text("SELECT version FROM availability_version WHERE kind = 'p' AND ref_id = :p")
        booked = db.session.scalars(
            select(Appointment).where(Appointment.status == AppointmentStatus.booked).limit(1)
        ).one()
        before = db.session.execute(stamp, {"p": booked.practitioner_id}).scalar()
        assert before is not None
        booked.status = AppointmentStatus.cancelled
        db.session.flush()
        assert db.session.execute(stamp, {"p": booked.practitioner_id}).scalar() != before
        db.session.rollback()
        if db.engine.dialect.name == "sqlite":
            # Statistics are gathered, so the planner reads a patient's missed sessions through
            # the patient index rather than every no-show in the table (the day sheet at 1M).
            stats = db.session.execute(text("SELECT count(*) FROM sqlite_stat1")).scalar()
            assert stats
            plan = db.session.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT patient_id, count(id) FROM appointment"
                    " WHERE patient_id IN (1, 2, 3) AND starts_at >= :a AND starts_at <= :b"
                    " AND (status = 'no_show' OR (status = 'cancelled' AND late_cancel IS 1))"
                    " GROUP BY patient_id"
                ),
                {"a": "2000-01-01", "b": "2100-01-01"},
            ).all()
            assert "ix_appointment_patient_start" in " ".join(str(row[-1]) for row in plan)
        # Desk search keys are filled like the model fills them.
        patient = db.session.get(PatientProfile, 1)
        assert patient is not None
        assert patient.search_family
        assert patient.sound_family
        assert patient.search_email
        assert patient.email.lower() == patient.search_email
        db.session.remove()
    # The staff sign-ins work with the printed password.
    assert sign_in(app.test_client(), "reception@scale.example", PASSWORD).status_code == 302
    with app.app_context():
        patient_email = db.session.scalar(
            select(PatientProfile.email).where(PatientProfile.id == 1)
        )
    assert patient_email is not None
    assert sign_in(app.test_client(), patient_email, PASSWORD).status_code == 302
    # A second run refuses with one line and a non-zero exit, and changes nothing.
    again = runner.invoke(args=ARGS)
    assert again.exit_code == 1
    assert len(again.output.strip().splitlines()) == 1
    assert "refused" in again.output
    assert "not empty" in again.output
    with app.app_context():
        assert _count(Appointment) == 700


def test_seed_scale_refuses_the_demo_database(app: Flask) -> None:
    seed_demo(app)
    with app.app_context():
        before = _count(PatientProfile)
    result = app.test_cli_runner().invoke(args=ARGS)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "not empty" in result.output
    with app.app_context():
        assert _count(PatientProfile) == before
        assert _count(Appointment) == 0
