"""Patient search keys for the front desk: folded names, Soundex codes, indexes (issue 15)

Revision ID: 20261206_s15desk_patient_search
Revises: 20261206_s18remind_reminders
Create Date: 2026-12-06 21:00:00

The folding and Soundex below are frozen copies of booking.domain.patients.search as of this
revision (a migration never imports the application); rows written later get their keys from
the model.
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "20261206_s15desk_patient_search"
down_revision = "20261206_s18remind_reminders"
branch_labels = None
depends_on = None

_NOT_LETTER = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")
_CODES = {
    **dict.fromkeys("bfpv", "1"),
    **dict.fromkeys("cgjkqsxz", "2"),
    **dict.fromkeys("dt", "3"),
    "l": "4",
    **dict.fromkeys("mn", "5"),
    "r": "6",
}
INDEXES = (
    ("ix_patient_profile_search_family", ["search_family", "search_given"]),
    ("ix_patient_profile_search_given", ["search_given"]),
    ("ix_patient_profile_sound_family", ["sound_family", "sound_given"]),
    ("ix_patient_profile_sound_given", ["sound_given"]),
    ("ix_patient_profile_date_of_birth", ["date_of_birth"]),
    ("ix_patient_profile_phone", ["phone"]),
    ("ix_patient_profile_search_email", ["search_email"]),
)


def _key(name):
    folded = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode("ascii")
    letters = _NOT_LETTER.sub("", folded.lower().replace("-", " "))
    return _SPACES.sub(" ", letters).strip()[:100]


def _soundex(key):
    letters = key.replace(" ", "")
    if not letters:
        return ""
    digits, previous = [], _CODES.get(letters[0], "")
    for letter in letters[1:]:
        code = _CODES.get(letter, "")
        if code and code != previous:
            digits.append(code)
        if letter not in "hw":
            previous = code
    return (letters[0].upper() + "".join(digits) + "000")[:4]


def upgrade():
    with op.batch_alter_table("patient_profile", schema=None) as batch_op:
        for column, size in (
            ("search_given", 100),
            ("search_family", 100),
            ("sound_given", 4),
            ("sound_family", 4),
            ("search_email", 254),
        ):
            batch_op.add_column(
                sa.Column(column, sa.String(length=size), nullable=False, server_default="")
            )
    profile = sa.table(
        "patient_profile",
        sa.column("id", sa.Integer),
        sa.column("given_name", sa.String),
        sa.column("family_name", sa.String),
        sa.column("search_given", sa.String),
        sa.column("search_family", sa.String),
        sa.column("sound_given", sa.String),
        sa.column("sound_family", sa.String),
        sa.column("email", sa.String),
        sa.column("search_email", sa.String),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(profile.c.id, profile.c.given_name, profile.c.family_name, profile.c.email)
    )
    updates = []
    for row_id, given, family, email in rows:
        given_key, family_key = _key(given), _key(family)
        updates.append(
            {
                "row_id": row_id,
                "sg": given_key,
                "sf": family_key,
                "dg": _soundex(given_key),
                "df": _soundex(family_key),
                "em": (email or "").strip().lower(),
            }
        )
    if updates:
        conn.execute(
            profile.update()
            .where(profile.c.id == sa.bindparam("row_id"))
            .values(
                search_given=sa.bindparam("sg"),
                search_family=sa.bindparam("sf"),
                sound_given=sa.bindparam("dg"),
                sound_family=sa.bindparam("df"),
                search_email=sa.bindparam("em"),
            ),
            updates,
        )
    with op.batch_alter_table("patient_profile", schema=None) as batch_op:
        for name, columns in INDEXES:
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    # Not in batch mode: rebuilding patient_profile on SQLite would trip the foreign keys
    # of the rows that point at it. SQLite drops a plain column in place.
    for name, _columns in INDEXES:
        op.drop_index(name, table_name="patient_profile")
    for column in ("search_email", "sound_family", "sound_given", "search_family", "search_given"):
        op.drop_column("patient_profile", column)
