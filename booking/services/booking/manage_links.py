"""Manage links asked for by email: a new link waits until its first use (issue 13).

Anyone may ask for a patient's links to be emailed, so asking alone must not stop the link
in use: the new one is stored as a waiting `ManageLink` and becomes the appointment's link
only when it is first opened (`changes.by_manage_token`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from booking.extensions import db
from booking.models import Appointment, ManageLink
from booking.services.platform.tokens import token_hash

# Waiting links kept per appointment; older unused ones beyond this are dropped (the link in
# use never is), so repeated asking cannot grow the table without bound.
MANAGE_LINKS_WAITING = 20


def add_manage_link(appointment: Appointment, token: str, *, now: datetime) -> ManageLink:
    """Store a new manage link for `appointment`; the link in use keeps working meanwhile."""
    link = ManageLink(appointment_id=appointment.id, token_hash=token_hash(token), created_at=now)
    db.session.add(link)
    db.session.flush()
    keep = (
        select(ManageLink.id)
        .where(ManageLink.appointment_id == appointment.id)
        .order_by(ManageLink.id.desc())
        .limit(MANAGE_LINKS_WAITING)
    )
    db.session.execute(
        delete(ManageLink)
        .where(ManageLink.appointment_id == appointment.id, ManageLink.id.not_in(keep))
        .execution_options(synchronize_session=False)
    )
    return link


def waiting_link_exists(hashed: str) -> bool:
    """True when `hashed` is a waiting link not yet used: a plain read, for GET requests."""
    found = db.session.scalar(select(ManageLink.id).where(ManageLink.token_hash == hashed))
    return found is not None


def first_use_of_new_link(hashed: str, *, now: datetime, session: Session) -> int | None:
    """Make a waiting link the appointment's link on its first use; its appointment's id.

    Its own row is deleted first: if a newer link was used meanwhile, that use already
    deleted this row, so this older link is refused (None) rather than brought back. Older
    waiting links go too; newer ones keep working. Runs in `session`: a GET passes its own
    short write unit (`db_hooks.write_unit`), so only this first use of a link writes.
    """
    link = session.scalar(select(ManageLink).where(ManageLink.token_hash == hashed))
    if link is None:
        return None
    appointment_id = link.appointment_id
    result = session.execute(
        delete(ManageLink)
        .where(ManageLink.id == link.id)
        .execution_options(synchronize_session=False)
    )
    spent = cast(CursorResult[Any], result).rowcount  # DML answers a CursorResult
    if not spent:
        return None
    session.execute(
        delete(ManageLink)
        .where(ManageLink.appointment_id == appointment_id, ManageLink.id < link.id)
        .execution_options(synchronize_session=False)
    )
    session.expunge(link)
    session.execute(
        update(Appointment)
        .where(Appointment.id == appointment_id)
        .values(manage_token_hash=hashed, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return appointment_id
