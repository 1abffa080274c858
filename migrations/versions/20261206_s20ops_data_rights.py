"""Patients' data rights: erasure requests, anonymised profiles, the patient of each email

Revision ID: 20261206_s20ops_data_rights
Revises: 20261127_intake_browser
Create Date: 2026-12-06 21:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "20261206_s20ops_data_rights"
down_revision = "20261127_intake_browser"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "erasure_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "done",
                name="erasure_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient_profile.id"],
            name=op.f("fk_erasure_request_patient_id_patient_profile"),
        ),
        sa.ForeignKeyConstraint(
            ["handled_by_id"], ["user.id"], name=op.f("fk_erasure_request_handled_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_request")),
    )
    with op.batch_alter_table("erasure_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erasure_request_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_erasure_request_status"), ["status"], unique=False)
    with op.batch_alter_table("patient_profile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("clinical_purged_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("patient_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_message_patient_id_patient_profile"),
            "patient_profile",
            ["patient_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_message_patient_id"), ["patient_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_patient_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_message_patient_id_patient_profile"), type_="foreignkey"
        )
        batch_op.drop_column("patient_id")
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy would drop patient_profile, which
    # other tables reference.
    op.execute("ALTER TABLE patient_profile DROP COLUMN clinical_purged_at")
    op.execute("ALTER TABLE patient_profile DROP COLUMN anonymised_at")
    with op.batch_alter_table("erasure_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erasure_request_status"))
        batch_op.drop_index(batch_op.f("ix_erasure_request_patient_id"))
    op.drop_table("erasure_request")
