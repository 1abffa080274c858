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


# Plain ADD COLUMN and a unique index, not a batch table rebuild: SQLite could not drop the
# practitioner table that appointments, hours and users' rows point at.
def upgrade():
    op.add_column("practitioner", sa.Column("feed_token_hash", sa.String(length=64), nullable=True))
    op.add_column(
        "practitioner",
        sa.Column("feed_token_created_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_practitioner_feed_token_hash", "practitioner", ["feed_token_hash"], unique=True
    )


def downgrade():
    op.drop_index("ix_practitioner_feed_token_hash", table_name="practitioner")
    # Native DROP COLUMN (SQLite 3.35+, PostgreSQL): no table rebuild, for the same reason.
    op.execute("ALTER TABLE practitioner DROP COLUMN feed_token_created_at")
    op.execute("ALTER TABLE practitioner DROP COLUMN feed_token_hash")
