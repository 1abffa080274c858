"""Availability version stamps, bumped by triggers on every table availability reads (issue 22)

Revision ID: 20261207_s22cache_versions
Revises: 20261206_s17plans_plans
Create Date: 2026-12-07 00:10:00

Every write that can change a free time bumps a stamp in the same transaction, whoever
writes it (views, services, CLI, the desk, a hand-written SQL fix): the availability cache
compares stamps on each read, so it never serves an answer older than the read. SQLite
rebuilds a table in `batch_alter_table` without its triggers: a later migration that alters
one of these tables must create its triggers again (tests/integration/test_availability_cache.py
fails when a writer stops bumping).

Stamps start at a random value and grow by a random step (1 to 2**31): a stamp that a
rolled-back transaction or a database later restored from a backup wrote is, in all
likelihood, never written again for other facts, so a cached answer cannot be served for
facts it was not computed from.
"""

import sqlalchemy as sa
from alembic import op

revision = "20261207_s22cache_versions"
down_revision = "20261207_s22get_refversion"
branch_labels = None
depends_on = None

# (table, columns an UPDATE must set to matter (None: any), [(kind, ref_id, condition)]),
# with {r} standing for OLD or NEW.
_CLINIC = [("'c'", "0", None)]
WATCHED = [
    (
        "appointment",
        "status, practitioner_id, room_id, room_place, busy_from, busy_until, hold_expires_at",
        [
            ("'p'", "{r}.practitioner_id", None),
            ("'r'", "{r}.room_id", "{r}.room_id IS NOT NULL"),
        ],
    ),
    ("working_hours", None, [("'p'", "{r}.practitioner_id", None)]),
    (
        "schedule_exception",
        None,
        [
            (
                "CASE WHEN {r}.practitioner_id IS NOT NULL THEN 'p' "
                "WHEN {r}.location_id IS NOT NULL THEN 'l' ELSE 'c' END",
                "COALESCE({r}.practitioner_id, {r}.location_id, 0)",
                None,
            )
        ],
    ),
    ("holiday_opening", None, [("'l'", "{r}.location_id", None)]),
    ("room", None, [("'l'", "{r}.location_id", None)]),
    ("location", None, _CLINIC),
    ("clinic", None, _CLINIC),
    ("session_type", None, _CLINIC),
    ("practitioner", None, _CLINIC),
    ("practitioner_session_type", None, _CLINIC),
]


def upgrade():
    op.create_table(
        "availability_version",
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("ref_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "ref_id", name=op.f("pk_availability_version")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION availability_version_touch(k text, r integer) RETURNS void "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "INSERT INTO availability_version (kind, ref_id, version) "
            "VALUES (k, r, floor(random() * 1e12)::bigint) "
            "ON CONFLICT (kind, ref_id) DO UPDATE "
            "SET version = availability_version.version + 1 + floor(random() * 2147483647)::bigint; "
            "END $$"
        )
        for table, _columns, scopes in WATCHED:
            op.execute(_pg_function(table, scopes))
    create_triggers()


def create_triggers(tables=None):
    """The bump triggers of `tables` (all watched tables by default); seed-scale drops the
    appointment table's for its bulk load and makes them again with this."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, columns, scopes in WATCHED:
        if tables is not None and table not in tables:
            continue
        if postgresql:
            update = "UPDATE" if columns is None else f"UPDATE OF {columns}"
            op.execute(
                f"CREATE TRIGGER availability_version_bump AFTER INSERT OR DELETE OR {update} "
                f"ON {table} FOR EACH ROW EXECUTE FUNCTION availability_bump_{table}()"
            )
            continue
        for event, rows in (
            ("INSERT", ["NEW"]),
            ("DELETE", ["OLD"]),
            ("UPDATE", ["OLD", "NEW"]),
        ):
            what = f"UPDATE OF {columns}" if event == "UPDATE" and columns else event
            body = "".join(_sqlite_bump(scope, row) for row in rows for scope in scopes)
            op.execute(
                f"CREATE TRIGGER availability_{table}_{event.lower()} AFTER {what} "
                f"ON {table} BEGIN {body}END"
            )


def drop_triggers(tables=None):
    """Drop the bump triggers of `tables` (all watched tables by default)."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, _columns, _scopes in WATCHED:
        if tables is not None and table not in tables:
            continue
        if postgresql:
            op.execute(f"DROP TRIGGER availability_version_bump ON {table}")
            continue
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER availability_{table}_{event}")


def _pg_function(table, scopes):
    def touches(row):
        out = []
        for kind, ref, condition in scopes:
            call = f"PERFORM availability_version_touch({kind.format(r=row)}, {ref.format(r=row)});"
            out.append(f"IF {condition.format(r=row)} THEN {call} END IF;" if condition else call)
        return " ".join(out)

    return (
        f"CREATE FUNCTION availability_bump_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF TG_OP <> 'INSERT' THEN {touches('OLD')} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {touches('NEW')} END IF; RETURN NULL; END $$"
    )


def _sqlite_bump(scope, row):
    kind, ref, condition = (part and part.format(r=row) for part in scope)
    where = f" AND {condition}" if condition else ""
    return (
        "INSERT OR IGNORE INTO availability_version (kind, ref_id, version) "
        f"SELECT {kind}, {ref}, abs(random() % 1000000000000) WHERE 1{where}; "
        "UPDATE availability_version SET version = version + 1 + abs(random() % 2147483648) "
        f"WHERE kind = {kind} AND ref_id = {ref}{where}; "
    )


def downgrade():
    drop_triggers()
    if op.get_bind().dialect.name == "postgresql":
        for table, _columns, _scopes in WATCHED:
            op.execute(f"DROP FUNCTION availability_bump_{table}()")
        op.execute("DROP FUNCTION availability_version_touch(text, integer)")
    op.drop_table("availability_version")
