"""A practitioner's secret calendar feed: the token's hash and when it was made (issue 15)

Revision ID: 20261206_s15cal_feed_token
Revises: 20261127_intake_browser
Create Date: 2026-12-06 21:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "20261206_s15cal_feed_token"
down_revision = "20261127_intake_browser"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("practitioner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feed_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("feed_token_created_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_practitioner_feed_token_hash"), ["feed_token_hash"]
        )


def downgrade():
    with op.batch_alter_table("practitioner", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_practitioner_feed_token_hash"), type_="unique")
        batch_op.drop_column("feed_token_created_at")
        batch_op.drop_column("feed_token_hash")
