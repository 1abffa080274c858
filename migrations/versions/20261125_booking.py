"""Booking drafts and emailed single-use links for the patient booking journey

Revision ID: 20261125_booking
Revises: 20261125_initial
Create Date: 2026-11-25 12:55:00

"""

import sqlalchemy as sa
from alembic import op

revision = "20261125_booking"
down_revision = "20261125_initial"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "booking_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_draft")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_booking_draft_key_hash")),
    )
    with op.batch_alter_table("booking_draft", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_booking_draft_expires_at"), ["expires_at"])
    op.create_table(
        "email_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("draft_key_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_email_link_token_hash")),
    )


def downgrade():
    op.drop_table("email_link")
    with op.batch_alter_table("booking_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_draft_expires_at"))
    op.drop_table("booking_draft")
