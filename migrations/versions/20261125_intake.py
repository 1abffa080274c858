"""Intake and consent: questionnaire versions, answers, derived flags, consent per modality

Also publishes version 1 of the first-visit intake and of the five consent texts (a data step:
every install needs them, demo or not).

Revision ID: 20261125_intake
Revises: 20261125_api
Create Date: 2026-11-25 13:40:00

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from booking.domain.intake.questionnaire_v1 import CONSENT_TEXTS_V1, FIRST_VISIT_INTAKE_V1

revision = "20261125_intake"
# Chained after the API's revision so the history keeps exactly one head.
down_revision = "20261125_api"
branch_labels = None
depends_on = None

PUBLISHED_AT = datetime(2026, 11, 25, tzinfo=UTC)


def upgrade():
    op.create_table(
        "consent_text",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "modality",
            sa.Enum(
                "needling",
                "electro_acupuncture",
                "cupping",
                "moxibustion",
                "gua_sha",
                name="modality",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_text")),
        sa.UniqueConstraint("modality", "version", name="uq_consent_text_modality"),
    )
    op.create_table(
        "questionnaire_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_version")),
        sa.UniqueConstraint("key", "version", name="uq_questionnaire_version_key"),
    )
    op.create_table(
        "intake_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_version_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                "reviewed",
                name="intake_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("completed_pages", sa.JSON(), nullable=False),
        sa.Column("current_page", sa.String(length=50), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("prefilled_from_id", sa.Integer(), nullable=True),
        sa.Column("guest_key_hash", sa.String(length=64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("review_comment", sa.String(length=1000), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_intake_response_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient_profile.id"],
            name=op.f("fk_intake_response_patient_id_patient_profile"),
        ),
        sa.ForeignKeyConstraint(
            ["prefilled_from_id"],
            ["intake_response.id"],
            name=op.f("fk_intake_response_prefilled_from_id_intake_response"),
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_version_id"],
            ["questionnaire_version.id"],
            name=op.f("fk_intake_response_questionnaire_version_id_questionnaire_version"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["user.id"], name=op.f("fk_intake_response_reviewer_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_response")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_intake_response_appointment_id")),
    )
    with op.batch_alter_table("intake_response", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_response_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index("ix_intake_response_queue", ["status", "urgent"], unique=False)

    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column(
            "modality",
            sa.Enum(
                "needling",
                "electro_acupuncture",
                "cupping",
                "moxibustion",
                "gua_sha",
                name="modality",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("consent_text_id", sa.Integer(), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "online",
                "paper",
                "verbal",
                name="consent_method",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("intake_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_text_id"],
            ["consent_text.id"],
            name=op.f("fk_consent_consent_text_id_consent_text"),
        ),
        sa.ForeignKeyConstraint(
            ["intake_id"], ["intake_response.id"], name=op.f("fk_consent_intake_id_intake_response")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient_profile.id"],
            name=op.f("fk_consent_patient_id_patient_profile"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["user.id"], name=op.f("fk_consent_recorded_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "uq_consent_current",
            ["patient_id", "modality"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )

    op.create_table(
        "patient_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "contraindication",
                "precaution",
                "red_flag",
                name="flag_severity",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("intake_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_by_id", sa.Integer(), nullable=True),
        sa.Column("cleared_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["cleared_by_id"], ["user.id"], name=op.f("fk_patient_flag_cleared_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["intake_id"],
            ["intake_response.id"],
            name=op.f("fk_patient_flag_intake_id_intake_response"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient_profile.id"],
            name=op.f("fk_patient_flag_patient_id_patient_profile"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_flag")),
    )
    with op.batch_alter_table("patient_flag", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_flag_patient_id"), ["patient_id"], unique=False
        )

    # Data step: published version 1 (frozen constants; a change is a new version).
    published_at = PUBLISHED_AT
    if op.get_bind().dialect.name == "sqlite":
        published_at = published_at.replace(tzinfo=None)
    questionnaire = sa.table(
        "questionnaire_version",
        sa.column("key", sa.String),
        sa.column("version", sa.Integer),
        sa.column("definition", sa.JSON),
        sa.column("published_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        questionnaire,
        [
            {
                "key": FIRST_VISIT_INTAKE_V1["key"],
                "version": FIRST_VISIT_INTAKE_V1["version"],
                "definition": FIRST_VISIT_INTAKE_V1,
                "published_at": published_at,
            }
        ],
    )
    consent_text = sa.table(
        "consent_text",
        sa.column("modality", sa.String),
        sa.column("version", sa.Integer),
        sa.column("title", sa.String),
        sa.column("body", sa.Text),
        sa.column("published_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        consent_text,
        [
            {
                "modality": modality,
                "version": 1,
                "title": text["title"],
                "body": text["body"],
                "published_at": published_at,
            }
            for modality, text in CONSENT_TEXTS_V1.items()
        ],
    )


def downgrade():
    with op.batch_alter_table("patient_flag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_flag_patient_id"))

    op.drop_table("patient_flag")
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_consent_current",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_consent_patient_id"))

    op.drop_table("consent")
    with op.batch_alter_table("intake_response", schema=None) as batch_op:
        batch_op.drop_index("ix_intake_response_queue")
        batch_op.drop_index(batch_op.f("ix_intake_response_patient_id"))

    op.drop_table("intake_response")
    op.drop_table("questionnaire_version")
    op.drop_table("consent_text")
