"""Browsers that proved the date of birth on a guest intake link after the first (issue 13)

Revision ID: 20261127_intake_browser
Revises: 20261127_manage_link
Create Date: 2026-11-27 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "20261127_intake_browser"
down_revision = "20261127_manage_link"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "intake_browser",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intake_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["intake_id"],
            ["intake_response.id"],
            name=op.f("fk_intake_browser_intake_id_intake_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_browser")),
        sa.UniqueConstraint("intake_id", "key_hash", name="uq_intake_browser_key"),
    )
    with op.batch_alter_table("intake_browser", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_browser_intake_id"), ["intake_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("intake_browser", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_browser_intake_id"))
    op.drop_table("intake_browser")
