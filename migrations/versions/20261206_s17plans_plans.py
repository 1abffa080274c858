"""Treatment plans, phases, series links, outcomes (issue 17)

Revision ID: 20261206_s17plans_plans
Revises: 20261206_s16notes_clinical_notes
Create Date: 2026-12-06 21:43:29.105670

"""

import sqlalchemy as sa
from alembic import op

revision = "20261206_s17plans_plans"
down_revision = "20261206_s16notes_clinical_notes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "treatment_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("goal", sa.String(length=500), nullable=False),
        sa.Column("condition_tag", sa.String(length=60), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "active",
                "paused",
                "completed",
                "cancelled",
                name="plan_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "measure",
            sa.Enum(
                "pain_nrs",
                "peg3",
                name="outcome_measure",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("review_points", sa.String(length=60), nullable=False),
        sa.Column("allow_other_practitioner", sa.Boolean(), nullable=False),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_treatment_plan_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient_profile.id"],
            name=op.f("fk_treatment_plan_patient_id_patient_profile"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioner.id"],
            name=op.f("fk_treatment_plan_practitioner_id_practitioner"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_plan")),
    )
    with op.batch_alter_table("treatment_plan", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_treatment_plan_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_treatment_plan_practitioner_id"), ["practitioner_id"], unique=False
        )

    op.create_table(
        "outcome_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column(
            "measure",
            sa.Enum(
                "pain_nrs",
                "peg3",
                name="outcome_measure",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("item1", sa.Integer(), nullable=False),
        sa.Column("item2", sa.Integer(), nullable=True),
        sa.Column("item3", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("item1 BETWEEN 0 AND 10", name=op.f("ck_outcome_record_outcome_item1")),
        sa.CheckConstraint(
            "item2 IS NULL OR item2 BETWEEN 0 AND 10", name=op.f("ck_outcome_record_outcome_item2")
        ),
        sa.CheckConstraint(
            "item3 IS NULL OR item3 BETWEEN 0 AND 10", name=op.f("ck_outcome_record_outcome_item3")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_outcome_record_appointment_id_appointment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["treatment_plan.id"],
            name=op.f("fk_outcome_record_plan_id_treatment_plan"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user.id"],
            name=op.f("fk_outcome_record_recorded_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_record")),
    )
    with op.batch_alter_table("outcome_record", schema=None) as batch_op:
        batch_op.create_index("ix_outcome_record_plan", ["plan_id", "recorded_at"], unique=False)

    op.create_table(
        "plan_appointment",
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_plan_appointment_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["treatment_plan.id"],
            name=op.f("fk_plan_appointment_plan_id_treatment_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("appointment_id", name=op.f("pk_plan_appointment")),
    )
    with op.batch_alter_table("plan_appointment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_plan_appointment_plan", ["plan_id", "appointment_id"], unique=False
        )

    op.create_table(
        "plan_phase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("session_type_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("interval_weeks", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("local_time", sa.Time(), nullable=False),
        sa.CheckConstraint("count BETWEEN 1 AND 52", name=op.f("ck_plan_phase_phase_count")),
        sa.CheckConstraint(
            "interval_weeks BETWEEN 1 AND 8", name=op.f("ck_plan_phase_phase_interval")
        ),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_plan_phase_phase_weekday")),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["treatment_plan.id"],
            name=op.f("fk_plan_phase_plan_id_treatment_plan"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_type_id"],
            ["session_type.id"],
            name=op.f("fk_plan_phase_session_type_id_session_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_phase")),
    )
    with op.batch_alter_table("plan_phase", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_phase_plan_id"), ["plan_id"], unique=False)


def downgrade():
    with op.batch_alter_table("plan_phase", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_phase_plan_id"))

    op.drop_table("plan_phase")
    with op.batch_alter_table("plan_appointment", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_appointment_plan")

    op.drop_table("plan_appointment")
    with op.batch_alter_table("outcome_record", schema=None) as batch_op:
        batch_op.drop_index("ix_outcome_record_plan")

    op.drop_table("outcome_record")
    with op.batch_alter_table("treatment_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_treatment_plan_practitioner_id"))
        batch_op.drop_index(batch_op.f("ix_treatment_plan_patient_id"))

    op.drop_table("treatment_plan")
