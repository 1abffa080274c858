"""Staff two-step sign-in (TOTP, recovery codes) and a hash-chained, append-only audit (issue 20)

Revision ID: 20261206_s20auth_mfa_audit_chain
Revises: 20261206_s19edges_holidays
Create Date: 2026-12-06 21:00:00

Existing audit rows are chained here, in id order, with the same recipe as
`booking.domain.audit_chain` (copied, not imported: a revision must not change with the code).
Then triggers refuse UPDATE and DELETE on `audit_event` on both engines.
"""

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "20261206_s20auth_mfa_audit_chain"
down_revision = "20261206_s19edges_holidays"
branch_labels = None
depends_on = None

_REFUSAL = "audit_event is append-only"
_AUDIT_FIELDS = (
    "occurred_at",
    "actor_user_id",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "ip_address",
    "request_id",
    "detail",
)


def _utc_text(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _row_hash(prev_hash, row):
    values = [prev_hash or ""]
    for name in _AUDIT_FIELDS:
        value = row[name]
        values.append(_utc_text(value) if name == "occurred_at" else value)
    payload = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _chain_existing_rows():
    audit = sa.table(
        "audit_event",
        sa.column("id", sa.Integer),
        sa.column("prev_hash", sa.String),
        sa.column("row_hash", sa.String),
        *(sa.column(name) for name in _AUDIT_FIELDS),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(audit).order_by(audit.c.id)).mappings().all()
    prev_hash = None
    for row in rows:
        row_hash = _row_hash(prev_hash, row)
        bind.execute(
            sa.update(audit)
            .where(audit.c.id == row["id"])
            .values(prev_hash=prev_hash, row_hash=row_hash)
        )
        prev_hash = row_hash


def upgrade():
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mfa_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mfa_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_recovery_code_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_code_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_audit_event_actor_user_id"), ["actor_user_id"], unique=False
        )
    _chain_existing_rows()
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{_REFUSAL}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
    else:
        for event in ("update", "delete"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{event} BEFORE {event.upper()} ON audit_event "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION audit_event_append_only()")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER audit_event_no_{event}")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_actor_user_id"))
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_code_user_id"))
    op.drop_table("recovery_code")
    # Plain DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch rebuild of these tables would
    # drop a table that other rows reference.
    for table, column in (
        ("user_session", "mfa_pending"),
        ("user", "totp_last_step"),
        ("user", "totp_enabled_at"),
        ("user", "totp_secret"),
        ("clinic", "mfa_required"),
    ):
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN {column}')
