"""Indexes for the busiest pages at 1,000,000 appointments (issue 22)

Revision ID: 20261207_s22seed_indexes
Revises: 20261206_s17plans_plans
Create Date: 2026-12-07 00:45:00

Found with benchmarks/explain_pages.py on `flask seed-scale` data (docs/performance.md,
"Query plans at 1,000,000 appointments").

- ix_appointment_missed: the missed-sessions count of the reception day sheet and the
  patient record (booking.services.patients.record.missed_counts) reads only no-shows and
  late cancellations; a partial index holds just those rows, so the count no longer visits
  every session of every patient on the sheet.
- ix_appointment_practitioner_start: the practitioner's day and week views ask for one
  practitioner's sessions by start time; the busy-range index (practitioner_id, busy_from)
  only narrowed the practitioner, so the query combined every session they ever had with a
  whole-clinic status/start range.
"""

import sqlalchemy as sa
from alembic import op

revision = "20261207_s22seed_indexes"
down_revision = "20261206_s17plans_plans"
branch_labels = None
depends_on = None

MISSED = "status = 'no_show' OR (status = 'cancelled' AND late_cancel IS TRUE)"


def upgrade():
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appointment_missed",
            ["patient_id", "starts_at"],
            unique=False,
            sqlite_where=sa.text(MISSED),
            postgresql_where=sa.text(MISSED),
        )
        batch_op.create_index(
            "ix_appointment_practitioner_start", ["practitioner_id", "starts_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_practitioner_start")
        batch_op.drop_index("ix_appointment_missed")
