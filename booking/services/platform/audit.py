"""Audit events: who read or changed what, written with the cause's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from booking.extensions import db
from booking.models import AuditEvent, User


def record_event(
    action: str,
    *,
    actor: User | None,
    now: datetime,
    object_type: str | None = None,
    object_id: int | None = None,
    patient_id: int | None = None,
    ip_address: str | None = None,
    request_id: str | None = None,
    detail: str | None = None,
    session: Session | None = None,
) -> AuditEvent:
    """Add an audit row to the given (or request) session; the caller commits."""
    event = AuditEvent(
        occurred_at=now,
        actor_user_id=actor.id if actor is not None else None,
        actor_role=str(actor.role) if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        ip_address=ip_address,
        request_id=request_id,
        detail=detail,
    )
    (session or db.session).add(event)
    return event
