"""Waitlist entries and offers, post-treatment check-ins and side-effect reports (issue 18)

Revision ID: 20261206_s18wait_waitlist
Revises: 20261206_s20ops_data_rights
Create Date: 2026-12-06 20:42:56.481058

"""

import sqlalchemy as sa
from alembic import op

revision = "20261206_s18wait_waitlist"
down_revision = "20261206_s20ops_data_rights"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("session_type_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=True),
        sa.Column("weekdays", sa.String(length=20), nullable=False),
        sa.Column("day_parts", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "booked",
                "removed",
                name="waitlist_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_waitlist_entry_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient_profile.id"],
            name=op.f("fk_waitlist_entry_patient_id_patient_profile"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioner.id"],
            name=op.f("fk_waitlist_entry_practitioner_id_practitioner"),
        ),
        sa.ForeignKeyConstraint(
            ["session_type_id"],
            ["session_type.id"],
            name=op.f("fk_waitlist_entry_session_type_id_session_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entry")),
    )
    with op.batch_alter_table("waitlist_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_waitlist_entry_match", ["status", "location_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_waitlist_entry_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "aftercare_checkin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_aftercare_checkin_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aftercare_checkin")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_aftercare_checkin_appointment_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_aftercare_checkin_token_hash")),
    )
    op.create_table(
        "waitlist_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "booked",
                "taken",
                name="waitlist_offer_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_waitlist_offer_appointment_id_appointment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["waitlist_entry.id"],
            name=op.f("fk_waitlist_offer_entry_id_waitlist_entry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioner.id"],
            name=op.f("fk_waitlist_offer_practitioner_id_practitioner"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_offer")),
        sa.UniqueConstraint(
            "entry_id", "practitioner_id", "starts_at", name="uq_waitlist_offer_time"
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_waitlist_offer_token_hash")),
    )
    with op.batch_alter_table("waitlist_offer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_waitlist_offer_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "side_effect_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("effects", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("followed_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("followed_up_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["checkin_id"],
            ["aftercare_checkin.id"],
            name=op.f("fk_side_effect_report_checkin_id_aftercare_checkin"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["followed_up_by_id"],
            ["user.id"],
            name=op.f("fk_side_effect_report_followed_up_by_id_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_side_effect_report")),
    )
    with op.batch_alter_table("side_effect_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_side_effect_report_checkin_id"), ["checkin_id"], unique=False
        )
    # Directly, not in batch mode: SQLite keeps the appointment table and its guard triggers.
    op.create_index("ix_appointment_first_visit_end", "appointment", ["is_first_visit", "ends_at"])


def downgrade():
    op.drop_index("ix_appointment_first_visit_end", table_name="appointment")
    with op.batch_alter_table("side_effect_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_side_effect_report_checkin_id"))

    op.drop_table("side_effect_report")
    with op.batch_alter_table("waitlist_offer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waitlist_offer_entry_id"))

    op.drop_table("waitlist_offer")
    op.drop_table("aftercare_checkin")
    with op.batch_alter_table("waitlist_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waitlist_entry_patient_id"))
        batch_op.drop_index("ix_waitlist_entry_match")

    op.drop_table("waitlist_entry")
