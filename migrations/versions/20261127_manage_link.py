"""Manage links asked for again wait for their first use before the old link stops (issue 13)

Revision ID: 20261127_manage_link
Revises: 20261127_holds_expire
Create Date: 2026-11-27 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "20261127_manage_link"
down_revision = "20261127_holds_expire"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "manage_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_manage_link_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manage_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_manage_link_token_hash")),
    )
    with op.batch_alter_table("manage_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_manage_link_appointment_id"), ["appointment_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("manage_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_manage_link_appointment_id"))
    op.drop_table("manage_link")
