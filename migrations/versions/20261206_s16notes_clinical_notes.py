"""Clinical notes, addenda and their follow-ups; signed notes locked by triggers (issue 16)

Revision ID: 20261206_s16notes_clinical_notes
Revises: 20261206_s19acct_account_links
Create Date: 2026-12-06 21:43:13.875181

A signed note is locked: triggers refuse an UPDATE or DELETE of a `clinical_note` row whose
`signed_at` is set, and any UPDATE or DELETE of a `note_addendum` (append-only), on SQLite and
PostgreSQL alike. Signing itself is the UPDATE of a draft row, which they allow. The one
exception is retention: once the patient's record is purged (`clinical_purged_at`), the
DELETE of their notes and addenda is allowed.
"""

import sqlalchemy as sa
from alembic import op

revision = "20261206_s16notes_clinical_notes"
down_revision = "20261206_s19acct_account_links"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "clinical_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("chief_complaint", sa.Text(), nullable=False),
        sa.Column("pain_score", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("tongue_colour", sa.String(length=20), nullable=False),
        sa.Column("tongue_coating", sa.String(length=20), nullable=False),
        sa.Column("tongue_shape", sa.String(length=100), nullable=False),
        sa.Column("pulse_positions", sa.String(length=100), nullable=False),
        sa.Column("pulse_qualities", sa.String(length=200), nullable=False),
        sa.Column("observations", sa.Text(), nullable=False),
        sa.Column("patterns", sa.String(length=200), nullable=False),
        sa.Column("pattern_text", sa.Text(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.Column("modalities", sa.String(length=100), nullable=False),
        sa.Column("electro_hz", sa.Integer(), nullable=True),
        sa.Column("electro_minutes", sa.Integer(), nullable=True),
        sa.Column("needles_in", sa.Integer(), nullable=True),
        sa.Column("needles_out", sa.Integer(), nullable=True),
        sa.Column("adverse_events", sa.String(length=100), nullable=False),
        sa.Column("adverse_detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "needles_in >= 0 AND needles_out >= 0", name=op.f("ck_clinical_note_needle_counts")
        ),
        sa.CheckConstraint(
            "pain_score BETWEEN 0 AND 10", name=op.f("ck_clinical_note_pain_score_range")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_clinical_note_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_clinical_note_author_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient_profile.id"],
            name=op.f("fk_clinical_note_patient_id_patient_profile"),
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioner.id"],
            name=op.f("fk_clinical_note_practitioner_id_practitioner"),
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"], ["user.id"], name=op.f("fk_clinical_note_signed_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinical_note")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_clinical_note_appointment_id")),
    )
    with op.batch_alter_table("clinical_note", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_clinical_note_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_clinical_note_practitioner_id"), ["practitioner_id"], unique=False
        )

    op.create_table(
        "note_addendum",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_note_addendum_author_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["note_id"], ["clinical_note.id"], name=op.f("fk_note_addendum_note_id_clinical_note")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_addendum")),
    )
    with op.batch_alter_table("note_addendum", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_note_addendum_note_id"), ["note_id"], unique=False)

    op.create_table(
        "note_follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("events", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("followed_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("followed_up_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["followed_up_by_id"],
            ["user.id"],
            name=op.f("fk_note_follow_up_followed_up_by_id_user"),
        ),
        sa.ForeignKeyConstraint(
            ["note_id"], ["clinical_note.id"], name=op.f("fk_note_follow_up_note_id_clinical_note")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_follow_up")),
        sa.UniqueConstraint("note_id", name=op.f("uq_note_follow_up_note_id")),
    )
    _create_triggers()


_NOTE_LOCKED = "a signed clinical note is locked: add an addendum instead"
_ADDENDUM_LOCKED = "a note addendum cannot be changed or removed"
# The one way out: once retention has purged the patient's record (clinical_purged_at set),
# its notes and addenda may be deleted (booking/services/privacy/retention.py does).
_NOTE_PATIENT = "(SELECT patient_id FROM clinical_note WHERE id = OLD.note_id)"
_PURGED_PG = (
    "EXISTS (SELECT 1 FROM patient_profile WHERE id = {patient} AND clinical_purged_at IS NOT NULL)"
)
_UNPURGED_SQLITE = "(SELECT clinical_purged_at FROM patient_profile WHERE id = {patient}) IS NULL"


def _create_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION clinical_note_locked() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF TG_OP = 'DELETE' AND {_PURGED_PG.format(patient='OLD.patient_id')} "
            "THEN RETURN OLD; END IF; "
            f"IF OLD.signed_at IS NOT NULL THEN RAISE EXCEPTION '{_NOTE_LOCKED}'; END IF; "
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER clinical_note_locked BEFORE UPDATE OR DELETE ON clinical_note "
            "FOR EACH ROW EXECUTE FUNCTION clinical_note_locked()"
        )
        op.execute(
            "CREATE FUNCTION note_addendum_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF TG_OP = 'DELETE' AND {_PURGED_PG.format(patient=_NOTE_PATIENT)} "
            f"THEN RETURN OLD; END IF; RAISE EXCEPTION '{_ADDENDUM_LOCKED}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER note_addendum_append_only BEFORE UPDATE OR DELETE ON note_addendum "
            "FOR EACH ROW EXECUTE FUNCTION note_addendum_append_only()"
        )
        return
    unpurged_note = _UNPURGED_SQLITE.format(patient="OLD.patient_id")
    unpurged_addendum = _UNPURGED_SQLITE.format(patient=_NOTE_PATIENT)
    for event, note_when, addendum_when in (
        ("update", "OLD.signed_at IS NOT NULL", "1"),
        ("delete", f"OLD.signed_at IS NOT NULL AND {unpurged_note}", unpurged_addendum),
    ):
        op.execute(
            f"CREATE TRIGGER clinical_note_locked_{event} BEFORE {event.upper()} ON clinical_note "
            f"WHEN {note_when} BEGIN SELECT RAISE(ABORT, '{_NOTE_LOCKED}'); END"
        )
        op.execute(
            f"CREATE TRIGGER note_addendum_no_{event} BEFORE {event.upper()} ON note_addendum "
            f"WHEN {addendum_when} BEGIN SELECT RAISE(ABORT, '{_ADDENDUM_LOCKED}'); END"
        )


def _drop_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER note_addendum_append_only ON note_addendum")
        op.execute("DROP FUNCTION note_addendum_append_only()")
        op.execute("DROP TRIGGER clinical_note_locked ON clinical_note")
        op.execute("DROP FUNCTION clinical_note_locked()")
        return
    for event in ("update", "delete"):
        op.execute(f"DROP TRIGGER note_addendum_no_{event}")
        op.execute(f"DROP TRIGGER clinical_note_locked_{event}")


def downgrade():
    _drop_triggers()
    op.drop_table("note_follow_up")
    with op.batch_alter_table("note_addendum", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_note_addendum_note_id"))

    op.drop_table("note_addendum")
    with op.batch_alter_table("clinical_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clinical_note_practitioner_id"))
        batch_op.drop_index(batch_op.f("ix_clinical_note_patient_id"))

    op.drop_table("clinical_note")
