"""The reference-data version stamp: per-process caches check one row per request (issue 22)

Revision ID: 20261207_s22get_refversion
Revises: 20261206_s17plans_plans
Create Date: 2026-12-07 00:25:00

"""

import sqlalchemy as sa
from alembic import op

revision = "20261207_s22get_refversion"
down_revision = "20261207_p17patient_outcomes"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "reference_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_version")),
    )
    op.bulk_insert(table, [{"id": 1, "version": 1}])


def downgrade():
    op.drop_table("reference_version")
