"""Outcome source and plan change requests (issue 17)

Revision ID: 20261207_p17patient_outcomes
Revises: 20261206_s17plans_plans
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

revision = "20261207_p17patient_outcomes"
down_revision = "20261207_s22seed_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "plan_change_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "done",
                name="change_request_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["handled_by_id"],
            ["user.id"],
            name=op.f("fk_plan_change_request_handled_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient_profile.id"],
            name=op.f("fk_plan_change_request_patient_id_patient_profile"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["treatment_plan.id"],
            name=op.f("fk_plan_change_request_plan_id_treatment_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_change_request")),
    )
    with op.batch_alter_table("plan_change_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_change_request_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_plan_change_request_plan_id"), ["plan_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_plan_change_request_status"), ["status"], unique=False)

    with op.batch_alter_table("outcome_record", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source",
                sa.Enum(
                    "practitioner",
                    "reception",
                    "patient",
                    name="outcome_source",
                    native_enum=False,
                    create_constraint=True,
                    length=20,
                ),
                server_default="practitioner",
                nullable=False,
            )
        )
        batch_op.create_index(
            "uq_outcome_record_patient_session",
            ["appointment_id"],
            unique=True,
            sqlite_where=sa.text("source = 'patient'"),
            postgresql_where=sa.text("source = 'patient'"),
        )


def downgrade():
    with op.batch_alter_table("outcome_record", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_outcome_record_patient_session",
            sqlite_where=sa.text("source = 'patient'"),
            postgresql_where=sa.text("source = 'patient'"),
        )
        batch_op.drop_constraint(batch_op.f("ck_outcome_record_outcome_source"), type_="check")
        batch_op.drop_column("source")

    with op.batch_alter_table("plan_change_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_change_request_status"))
        batch_op.drop_index(batch_op.f("ix_plan_change_request_plan_id"))
        batch_op.drop_index(batch_op.f("ix_plan_change_request_patient_id"))

    op.drop_table("plan_change_request")
