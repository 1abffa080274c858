"""Practitioners: their profiles and the session types they offer.

Their accounts (invitations, disabling) are services/accounts/staff.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.domain.errors import InvalidInput, NotFound
from booking.extensions import db
from booking.models import Practitioner, SessionType, User
from booking.services.clinic.checks import audit_change, check_name
from booking.services.platform.emails import check_email_format, normalise_email

BIO_MAX = 2000


EMAIL_MAX = 254


@dataclass(frozen=True, slots=True)
class PractitionerValues:
    display_name: str
    bio: str
    session_type_ids: tuple[int, ...]
    can_review_articles: bool
    is_active: bool


def practitioners() -> list[Practitioner]:
    """Every practitioner, in use or not, with account and session types loaded (3 queries)."""
    return list(
        db.session.scalars(
            select(Practitioner)
            .options(selectinload(Practitioner.user), selectinload(Practitioner.session_types))
            .order_by(Practitioner.display_name, Practitioner.id)
        )
    )


def get_practitioner(practitioner_id: int) -> Practitioner:
    """The practitioner with this id. Raises NotFound."""
    practitioner = db.session.get(Practitioner, practitioner_id)
    if practitioner is None:
        raise NotFound("Practitioner not found")
    return practitioner


def practitioner_of(user: User) -> Practitioner | None:
    """The practitioner row of a signed-in practitioner, if there is one."""
    return db.session.scalar(select(Practitioner).where(Practitioner.user_id == user.id))


def check_account_email(text: str) -> str:
    """A new account's address, well formed and in the sign-in's normal form.

    Raises InvalidInput (field `email`) when empty, over 254 characters or malformed.
    """
    text = text.strip()
    if not text:
        raise InvalidInput("Enter an email address", field="email")
    if len(text) > EMAIL_MAX:
        raise InvalidInput("Email address must be 254 characters or fewer", field="email")
    return normalise_email(check_email_format(text))


def update_practitioner(
    practitioner_id: int, values: PractitionerValues, *, actor: User, now: datetime
) -> Practitioner:
    """Change a practitioner's profile and the session types they offer.

    Booked sessions stay booked, even of a type they no longer offer or when they are no
    longer in use. Raises NotFound for an unknown id, InvalidInput (with `field`) for an empty
    or over-long name, a bio over 2,000 characters or an unknown session type.
    """
    practitioner = get_practitioner(practitioner_id)
    name = check_name(values.display_name, "display_name")
    bio = values.bio.strip()
    if len(bio) > BIO_MAX:
        raise InvalidInput(f"Bio must be {BIO_MAX:,} characters or fewer", field="bio")
    wanted = set(values.session_type_ids)
    types = list(
        db.session.scalars(
            select(SessionType)
            .where(SessionType.id.in_(wanted))
            .order_by(SessionType.sort_order, SessionType.id)
        )
    )
    if len(types) != len(wanted):
        raise InvalidInput("Select session types from the list", field="session_type_ids")
    changed = []
    for field, value in (
        ("display_name", name),
        ("bio", bio),
        ("can_review_articles", values.can_review_articles),
        ("is_active", values.is_active),
    ):
        if getattr(practitioner, field) != value:
            setattr(practitioner, field, value)
            changed.append(field)
    if {t.id for t in practitioner.session_types} != wanted:
        practitioner.session_types = types
        changed.append("session_types")
    if practitioner.user.display_name != name:
        practitioner.user.display_name = name
    db.session.flush()
    audit_change("setup.practitioner.update", practitioner, actor, now, changed)
    return practitioner


def practitioner_choices(selected: Iterable[int] = ()) -> list[tuple[int, str]]:
    """Active practitioners, plus any inactive ones already chosen, as (id, name)."""
    keep = set(selected)
    rows = db.session.execute(
        select(Practitioner.id, Practitioner.display_name, Practitioner.is_active).order_by(
            Practitioner.display_name, Practitioner.id
        )
    )
    return [(pid, name) for pid, name, active in rows if active or pid in keep]
