"""Locations name their holiday subdivision; admins may open a public holiday (issue 19)

Existing locations get the subdivision of their country's main one (GB -> ENG, so GB-ENG);
their phone numbers are stored in E.164 where phonenumbers reads them as valid numbers of
the location's country (anything else is left as it is for an admin to correct).

Revision ID: 20261206_s19edges_holidays
Revises: 20261206_s15cal_feed_token
Create Date: 2026-12-06 21:00:00

"""

import phonenumbers
import sqlalchemy as sa
from alembic import op

revision = "20261206_s19edges_holidays"
down_revision = "20261206_s15cal_feed_token"
branch_labels = None
depends_on = None


def _e164(text, country):
    try:
        number = phonenumbers.parse(text, country or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def upgrade():
    op.add_column("location", sa.Column("subdivision", sa.String(length=3), nullable=True))
    location = sa.table(
        "location",
        sa.column("id", sa.Integer()),
        sa.column("phone", sa.String()),
        sa.column("country_code", sa.String()),
        sa.column("subdivision", sa.String()),
    )
    bind = op.get_bind()
    bind.execute(location.update().where(location.c.country_code == "GB").values(subdivision="ENG"))
    rows = bind.execute(sa.select(location.c.id, location.c.phone, location.c.country_code))
    for location_id, phone, country in list(rows):
        stored = _e164(phone, country) if phone else None
        if stored is not None and stored != phone:
            bind.execute(location.update().where(location.c.id == location_id).values(phone=stored))

    op.create_table(
        "holiday_opening",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
            name=op.f("fk_holiday_opening_location_id_location"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"],
            ["user.id"],
            name=op.f("fk_holiday_opening_opened_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holiday_opening")),
        sa.UniqueConstraint("location_id", "on_date", name="uq_holiday_opening"),
    )


def downgrade():
    op.drop_table("holiday_opening")
    # Plain ALTER TABLE (SQLite 3.35+ and PostgreSQL): a batch copy of `location` would drop
    # a table other rows point at.
    op.execute("ALTER TABLE location DROP COLUMN subdivision")
