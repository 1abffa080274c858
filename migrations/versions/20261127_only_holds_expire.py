"""Only holds expire: clear hold_expires_at left on rows that are no longer holds (issue 13)

Booking a hold used to keep its expiry, and availability skipped the booked range once that
instant passed, offering the time again. Holds keep their expiry; every other row loses it.

Revision ID: 20261127_holds_expire
Revises: 20261126_throttle
Create Date: 2026-11-27 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "20261127_holds_expire"
down_revision = "20261126_throttle"
branch_labels = None
depends_on = None

# A stub of the two columns this data migration touches (never the models: they move on).
appointment = sa.table(
    "appointment",
    sa.column("status", sa.String),
    sa.column("hold_expires_at", sa.DateTime(timezone=True)),
)


def upgrade():
    op.execute(
        appointment.update()
        .where(appointment.c.status != "held")
        .where(appointment.c.hold_expires_at.is_not(None))
        .values(hold_expires_at=None)
    )


def downgrade():
    # Nothing to undo: a stale expiry on a booking carried no meaning worth restoring, and the
    # schema is unchanged.
    pass
