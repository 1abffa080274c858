"""Session reminders and delivery: reminder settings, outbox links to sessions, cancelled mail

Adds the clinic's reminder settings (24-hour and 2-hour reminders, the automatic intake
reminder, whether reminders may name the session type) with per-location overrides, ties
outbox rows to a session and its start (one reminder per session x kind x start), records
whether a message is essential and its unsubscribe link, and lets a message be cancelled.

Revision ID: 20261206_s18remind_reminders
Revises: 20261206_s20auth_mfa_audit_chain
Create Date: 2026-12-06 21:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "20261206_s18remind_reminders"
down_revision = "20261206_s20auth_mfa_audit_chain"
branch_labels = None
depends_on = None

OLD_STATUSES = ("pending", "sending", "sent", "dead")
NEW_STATUSES = (*OLD_STATUSES, "cancelled")


def _status(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values, name="outbox_status", native_enum=False, create_constraint=True, length=20
    )


def upgrade():
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminder_24h", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("reminder_2h", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "intake_reminder_auto", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
        batch_op.add_column(
            sa.Column("reminder_details", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_24h", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("reminder_2h", sa.Boolean(), nullable=True))
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index("ix_appointment_status_start", ["status", "starts_at"], unique=False)
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("appointment_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("appointment_starts_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("essential", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("unsubscribe_url", sa.String(length=500), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_message_appointment_id_appointment"),
            "appointment",
            ["appointment_id"],
            ["id"],
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_outbox_message_appointment_id"),
            ["appointment_id", "kind", "appointment_starts_at"],
        )
        batch_op.alter_column(
            "status",
            existing_type=_status(OLD_STATUSES),
            type_=_status(NEW_STATUSES),
            existing_nullable=False,
        )


def downgrade():
    outbox = sa.table("outbox_message", sa.column("status", sa.String))
    op.execute(outbox.update().where(outbox.c.status == "cancelled").values(status="dead"))
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=_status(NEW_STATUSES),
            type_=_status(OLD_STATUSES),
            existing_nullable=False,
        )
        batch_op.drop_constraint(batch_op.f("uq_outbox_message_appointment_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_message_appointment_id_appointment"), type_="foreignkey"
        )
        batch_op.drop_column("unsubscribe_url")
        batch_op.drop_column("essential")
        batch_op.drop_column("appointment_starts_at")
        batch_op.drop_column("appointment_id")
    op.drop_index("ix_appointment_status_start", table_name="appointment")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch copy of these tables would
    # drop tables that other rows reference.
    for table, columns in (
        ("location", ("reminder_2h", "reminder_24h")),
        ("clinic", ("reminder_details", "intake_reminder_auto", "reminder_2h", "reminder_24h")),
    ):
        for column in columns:
            op.drop_column(table, column)
