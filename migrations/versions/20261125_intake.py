"""Intake and consent: questionnaire versions, answers, derived flags, consent per modality

Also publishes version 1 of the first-visit intake and of the five consent texts (a data step:
every install needs them, demo or not).

Revision ID: 20261125_intake
Revises: 20261125_api
Create Date: 2026-11-25 13:40:00

"""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

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


# ---- Published data, copied here and never imported ------------------------------------------
# Version 1 exactly as this revision published it (booking/domain/intake/questionnaire_v1.py holds
# the same values for the application; tests/unit/test_migrations_self_contained.py pins both to
# one hash).
# A revision runs against whatever code exists when it is applied, so it carries its own data.

FIRST_VISIT_INTAKE_V1: dict[str, Any] = {
    "key": "first_visit_intake",
    "version": 1,
    "title": "Health questions",
    "pages": [
        {
            "key": "concern",
            "title": "Your main concern",
            "questions": [
                {
                    "key": "concern",
                    "type": "textarea",
                    "label": "What would you like help with?",
                    "hint": "For example, pain in your lower back when you sit for a long time.",
                    "required": True,
                    "max_length": 1000,
                    "error": "Enter what you would like help with",
                },
                {
                    "key": "body_regions",
                    "type": "checkboxes",
                    "label": "Where in your body is the problem?",
                    "hint": "Select all that apply.",
                    "options": [
                        ["head", "Head or face"],
                        ["neck", "Neck"],
                        ["shoulders", "Shoulders"],
                        ["upper_back", "Upper back"],
                        ["lower_back", "Lower back"],
                        ["arms", "Arms or hands"],
                        ["chest", "Chest or stomach"],
                        ["hips", "Hips"],
                        ["legs", "Legs or knees"],
                        ["feet", "Feet or ankles"],
                        ["whole_body", "All over or hard to say"],
                    ],
                    "required": True,
                    "error": "Select where in your body the problem is",
                },
            ],
        },
        {
            "key": "onset",
            "title": "When did it start?",
            "questions": [
                {
                    "key": "onset",
                    "type": "radios",
                    "label": "When did it start?",
                    "options": [
                        ["under_6_weeks", "Less than 6 weeks ago"],
                        ["6_to_12_weeks", "6 to 12 weeks ago"],
                        ["3_to_12_months", "3 to 12 months ago"],
                        ["over_a_year", "More than a year ago"],
                    ],
                    "required": True,
                    "error": "Select when it started",
                }
            ],
        },
        {
            "key": "pain",
            "title": "How much pain do you have?",
            "questions": [
                {
                    "key": "pain_now",
                    "type": "scale",
                    "label": "How much pain do you have right now?",
                    "hint": "0 means no pain. 10 means pain as bad as you can imagine.",
                    "required": True,
                    "error": "Select a number from 0 to 10 for your pain right now",
                },
                {
                    "key": "pain_average",
                    "type": "scale",
                    "label": "What number describes your pain on average in the past week?",
                    "hint": "0 means no pain. 10 means pain as bad as you can imagine.",
                    "required": True,
                    "error": "Select a number from 0 to 10 for your pain on average",
                },
            ],
        },
        {
            "key": "daily_life",
            "title": "How pain affects your life",
            "intro": "Think about the past week.",
            "questions": [
                {
                    "key": "peg_enjoyment",
                    "type": "scale",
                    "label": "How much has pain got in the way of your enjoyment of life?",
                    "hint": "0 means it does not interfere. 10 means it completely interferes.",
                    "required": True,
                    "error": "Select a number from 0 to 10 for your enjoyment of life",
                },
                {
                    "key": "peg_activity",
                    "type": "scale",
                    "label": "How much has pain got in the way of your general activity?",
                    "hint": "0 means it does not interfere. 10 means it completely interferes.",
                    "required": True,
                    "error": "Select a number from 0 to 10 for your general activity",
                },
            ],
        },
        {
            "key": "warning_signs",
            "title": "Warning signs",
            "intro": "Since your problem started, have you had any of these?",
            "questions": [
                {
                    "key": "rf_saddle_numbness",
                    "type": "radios",
                    "label": "Numbness around your bottom or genitals",
                    "short": "Saddle numbness",
                    "options": [["yes", "Yes"], ["no", "No"]],
                    "inline": True,
                    "required": True,
                    "error": "Select yes if you have numbness around your bottom or genitals",
                    "red_flag": True,
                },
                {
                    "key": "rf_bladder_bowel",
                    "type": "radios",
                    "label": "New problems passing urine or controlling your bowels",
                    "short": "New bladder or bowel problems",
                    "options": [["yes", "Yes"], ["no", "No"]],
                    "inline": True,
                    "required": True,
                    "error": "Select yes if you have new problems passing urine or "
                    "controlling your bowels",
                    "red_flag": True,
                },
                {
                    "key": "rf_leg_weakness",
                    "type": "radios",
                    "label": "Weakness in your legs that is getting worse",
                    "short": "Worsening leg weakness",
                    "options": [["yes", "Yes"], ["no", "No"]],
                    "inline": True,
                    "required": True,
                    "error": "Select yes if you have weakness in your legs that is getting worse",
                    "red_flag": True,
                },
                {
                    "key": "rf_fever",
                    "type": "radios",
                    "label": "A fever, or feeling hot and shivery",
                    "short": "Fever",
                    "options": [["yes", "Yes"], ["no", "No"]],
                    "inline": True,
                    "required": True,
                    "error": "Select yes if you have had a fever",
                    "red_flag": True,
                },
                {
                    "key": "rf_weight_loss",
                    "type": "radios",
                    "label": "Weight loss you cannot explain",
                    "short": "Unexplained weight loss",
                    "options": [["yes", "Yes"], ["no", "No"]],
                    "inline": True,
                    "required": True,
                    "error": "Select yes if you have lost weight you cannot explain",
                    "red_flag": True,
                },
                {
                    "key": "rf_cancer_history",
                    "type": "radios",
                    "label": "Cancer, now or in the past",
                    "short": "History of cancer",
                    "options": [["yes", "Yes"], ["no", "No"]],
                    "inline": True,
                    "required": True,
                    "error": "Select yes if you have or have had cancer",
                    "red_flag": True,
                },
                {
                    "key": "rf_recent_injury",
                    "type": "radios",
                    "label": "A recent fall, accident or other serious injury",
                    "short": "Recent significant injury",
                    "options": [["yes", "Yes"], ["no", "No"]],
                    "inline": True,
                    "required": True,
                    "error": "Select yes if you have had a recent fall, accident or serious injury",
                    "red_flag": True,
                },
            ],
        },
        {
            "key": "medical_history",
            "title": "Your health",
            "questions": [
                {
                    "key": "conditions",
                    "type": "checkboxes",
                    "label": "Do you have any of these conditions?",
                    "hint": "Select all that apply.",
                    "options": [
                        ["diabetes", "Diabetes"],
                        ["epilepsy", "Epilepsy or seizures"],
                        ["heart", "A heart condition"],
                        ["blood_pressure", "High or low blood pressure"],
                        ["stroke", "A stroke"],
                        ["immune", "A weak immune system"],
                        ["none", "None of these"],
                    ],
                    "exclusive": "none",
                    "required": True,
                    "error": "Select any conditions you have, or None of these",
                    "flags": {"epilepsy": "seizure_risk"},
                },
                {
                    "key": "history_details",
                    "type": "textarea",
                    "label": "Anything else about your health we should know? (optional)",
                    "hint": "For example, operations or long-term conditions.",
                    "required": False,
                    "max_length": 1000,
                },
            ],
        },
        {
            "key": "medicines",
            "title": "Your medicines",
            "questions": [
                {
                    "key": "anticoagulants",
                    "type": "radios",
                    "label": "Do you take medicine that thins your blood or stops it clotting?",
                    "hint": "For example warfarin, apixaban, rivaroxaban, dabigatran, "
                    "edoxaban, clopidogrel or a daily aspirin.",
                    "options": [["yes", "Yes"], ["no", "No"], ["not_sure", "I'm not sure"]],
                    "required": True,
                    "error": "Select yes if you take medicine that thins your blood",
                    "flags": {"yes": "bleeding_risk", "not_sure": "bleeding_risk"},
                },
                {
                    "key": "medicines",
                    "type": "textarea",
                    "label": "What other medicines do you take? (optional)",
                    "hint": "Include medicines you buy yourself, and herbal remedies.",
                    "required": False,
                    "max_length": 1000,
                },
            ],
        },
        {
            "key": "allergies",
            "title": "Allergies",
            "questions": [
                {
                    "key": "allergies",
                    "type": "checkboxes",
                    "label": "Are you allergic to any of these?",
                    "hint": "Select all that apply.",
                    "options": [
                        ["metal", "Metals, such as nickel"],
                        ["adhesive", "Plasters or adhesive tape"],
                        ["latex", "Latex"],
                        ["medicine", "A medicine"],
                        ["other", "Something else"],
                        ["none", "No allergies"],
                    ],
                    "exclusive": "none",
                    "required": True,
                    "error": "Select your allergies, or No allergies",
                    "flags": {"metal": "metal_allergy", "adhesive": "metal_allergy"},
                },
                {
                    "key": "allergy_details",
                    "type": "text",
                    "label": "Tell us more about your allergies (optional)",
                    "required": False,
                    "max_length": 300,
                },
            ],
        },
        {
            "key": "pregnancy",
            "title": "Are you pregnant or might you be?",
            "questions": [
                {
                    "key": "pregnancy",
                    "type": "radios",
                    "label": "Are you pregnant or might you be?",
                    "hint": "Some points are not used in pregnancy, so we need to know.",
                    "options": [["yes", "Yes"], ["maybe", "I might be"], ["no", "No"]],
                    "required": True,
                    "error": "Select yes if you are pregnant or might be",
                    "flags": {"yes": "pregnancy", "maybe": "pregnancy"},
                }
            ],
        },
        {
            "key": "implants",
            "title": "Do you have a pacemaker or another electrical implant?",
            "questions": [
                {
                    "key": "implants",
                    "type": "radios",
                    "label": "Do you have a pacemaker or another electrical implant?",
                    "hint": "For example a defibrillator (ICD), a nerve stimulator or a pump.",
                    "options": [["yes", "Yes"], ["no", "No"]],
                    "inline": True,
                    "required": True,
                    "error": "Select yes if you have a pacemaker or another electrical implant",
                    "flags": {"yes": "no_electro"},
                }
            ],
        },
        {
            "key": "bleeding",
            "title": "Do you have a bleeding disorder?",
            "questions": [
                {
                    "key": "bleeding_disorder",
                    "type": "radios",
                    "label": "Do you have a bleeding disorder?",
                    "hint": "For example haemophilia, or you bleed or bruise very easily.",
                    "options": [["yes", "Yes"], ["no", "No"]],
                    "inline": True,
                    "required": True,
                    "error": "Select yes if you have a bleeding disorder",
                    "flags": {"yes": "bleeding_risk"},
                }
            ],
        },
        {
            "key": "needles",
            "title": "Have you ever fainted or felt very anxious with needles?",
            "questions": [
                {
                    "key": "needle_fainting",
                    "type": "radios",
                    "label": "Have you ever fainted or felt very anxious with needles?",
                    "hint": "For example at a blood test or an injection.",
                    "options": [["yes", "Yes"], ["no", "No"]],
                    "inline": True,
                    "required": True,
                    "error": "Select yes if you have fainted or felt very anxious with needles",
                    "flags": {"yes": "faint_risk"},
                }
            ],
        },
        {
            "key": "skin",
            "title": "Skin problems",
            "questions": [
                {
                    "key": "skin_problem",
                    "type": "radios",
                    "label": "Do you have a skin infection, wound or rash where you need help?",
                    "hint": "For example on your back if your back hurts.",
                    "options": [["yes", "Yes"], ["no", "No"]],
                    "inline": True,
                    "required": True,
                    "error": "Select yes if you have a skin infection, wound or rash there",
                    "flags": {"yes": "skin_site"},
                },
                {
                    "key": "skin_details",
                    "type": "text",
                    "label": "Where is it? (optional)",
                    "required": False,
                    "max_length": 200,
                },
            ],
        },
        {
            "key": "emergency_contact",
            "title": "Emergency contact",
            "intro": "Who should we call if you feel unwell during a session?",
            "questions": [
                {
                    "key": "ec_name",
                    "type": "text",
                    "label": "Full name",
                    "autocomplete": "off",
                    "required": True,
                    "max_length": 100,
                    "error": "Enter the name of your emergency contact",
                },
                {
                    "key": "ec_phone",
                    "type": "text",
                    "label": "Phone number",
                    "input_type": "tel",
                    "autocomplete": "off",
                    "required": True,
                    "max_length": 30,
                    "error": "Enter a phone number for your emergency contact",
                },
                {
                    "key": "ec_relationship",
                    "type": "text",
                    "label": "How do you know them? (optional)",
                    "hint": "For example partner, parent or friend.",
                    "required": False,
                    "max_length": 50,
                },
            ],
        },
        {
            "key": "gp",
            "title": "Your GP or doctor (optional)",
            "intro": "We only contact your GP if you agree, or in an emergency.",
            "questions": [
                {
                    "key": "gp_name",
                    "type": "text",
                    "label": "Name of your GP or doctor (optional)",
                    "required": False,
                    "max_length": 100,
                },
                {
                    "key": "gp_practice",
                    "type": "text",
                    "label": "Name of their surgery or practice (optional)",
                    "required": False,
                    "max_length": 200,
                },
            ],
        },
    ],
}

CONSENT_TEXTS_V1: dict[str, dict[str, str]] = {
    "needling": {
        "title": "Needling",
        "body": "Your practitioner puts very fine, single-use needles into the skin at "
        "chosen points and leaves them for up to 30 minutes.\n"
        "Common effects are small bruises, soreness where a needle went in, and "
        "feeling tired afterwards. Fainting is rare. Serious problems are very "
        "rare.\n"
        "Results vary from person to person. You can ask to stop at any time.",
    },
    "electro_acupuncture": {
        "title": "Electro-acupuncture",
        "body": "A small device passes a gentle electrical current between some "
        "of the needles. You feel tingling or tapping.\n"
        "It is not used if you have a pacemaker or another electrical "
        "implant.\n"
        "Common effects are the same as needling. You can ask to stop at "
        "any time.",
    },
    "cupping": {
        "title": "Cupping",
        "body": "Your practitioner places glass or plastic cups on the skin and uses suction "
        "to hold them there for a few minutes.\n"
        "Round marks like bruises are common and fade within about 10 days. You can "
        "ask to stop at any time.",
    },
    "moxibustion": {
        "title": "Moxibustion",
        "body": "Your practitioner warms points on the skin with a burning herb called "
        "moxa, held above the skin or on a small stand.\n"
        "It feels warm. Redness is common; a small burn is possible but rare. "
        "Tell your practitioner at once if it feels too hot.",
    },
    "gua_sha": {
        "title": "Gua sha",
        "body": "Your practitioner rubs oiled skin with a smooth tool in firm strokes.\n"
        "Red or purple marks are common and fade within a few days. You can ask to "
        "stop at any time.",
    },
}
