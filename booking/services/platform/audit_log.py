"""Reading the audit trail: the admin's filtered, paged list and who read a patient's record.

Only reads: nothing here (or anywhere) updates or deletes an audit row, and the database
refuses both (migration 20261206_s20auth_mfa_audit_chain).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from booking.extensions import db
from booking.models import STAFF_ROLES, AuditEvent, PatientProfile, User

PAGE_SIZE = 50
READ_SUFFIX = ".read"


@dataclass(frozen=True)
class AuditFilter:
    patient_id: int | None = None
    actor_user_id: int | None = None
    action: str | None = None
    occurred_from: datetime | None = None  # inclusive
    occurred_before: datetime | None = None  # exclusive


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    actor_name: str | None
    patient_name: str | None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    page: int
    has_next: bool


def _listing(where: AuditFilter) -> Select[AuditEvent, str | None, str | None, str | None]:
    actor = aliased(User)
    stmt = (
        select(
            AuditEvent, actor.display_name, PatientProfile.given_name, PatientProfile.family_name
        )
        .outerjoin(actor, actor.id == AuditEvent.actor_user_id)
        .outerjoin(PatientProfile, PatientProfile.id == AuditEvent.patient_id)
        .order_by(AuditEvent.id.desc())
    )
    if where.patient_id is not None:
        stmt = stmt.where(AuditEvent.patient_id == where.patient_id)
    if where.actor_user_id is not None:
        stmt = stmt.where(AuditEvent.actor_user_id == where.actor_user_id)
    if where.action:
        stmt = stmt.where(AuditEvent.action == where.action)
    if where.occurred_from is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= where.occurred_from)
    if where.occurred_before is not None:
        stmt = stmt.where(AuditEvent.occurred_at < where.occurred_before)
    return stmt


def _row(event: AuditEvent, actor: str | None, given: str | None, family: str | None) -> AuditRow:
    return AuditRow(event, actor, f"{given} {family}" if given is not None else None)


def audit_page(where: AuditFilter, *, page: int) -> AuditPage:
    """One page of audit rows, newest first, matching every given filter."""
    page = max(page, 1)
    found = db.session.execute(
        _listing(where).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    ).all()
    rows = [_row(*found_row) for found_row in found[:PAGE_SIZE]]
    return AuditPage(rows=rows, page=page, has_next=len(found) > PAGE_SIZE)


def record_reads(patient_id: int, *, limit: int = 20) -> list[AuditRow]:
    """The latest reads of a patient's record: who read which part, when."""
    stmt = _listing(AuditFilter(patient_id=patient_id)).where(
        AuditEvent.action.like(f"%{READ_SUFFIX}")
    )
    return [_row(*found) for found in db.session.execute(stmt.limit(limit)).all()]


@dataclass(frozen=True)
class StaffReads:
    name: str
    role: str
    reads: int
    last_read: datetime


def reads_by_staff(patient_id: int) -> list[StaffReads]:
    """How often each member of staff read a patient's record (every `*.read` action, notes
    and flags included) and when last: one GROUP BY query, most reads first."""
    count = func.count(AuditEvent.id)
    stmt = (
        select(User.display_name, User.role, count, func.max(AuditEvent.occurred_at))
        .join(User, User.id == AuditEvent.actor_user_id)
        .where(
            AuditEvent.patient_id == patient_id,
            AuditEvent.action.like(f"%{READ_SUFFIX}"),
            User.role.in_(STAFF_ROLES),
        )
        .group_by(User.id, User.display_name, User.role)
        .order_by(count.desc(), User.display_name, User.id)
    )
    return [
        StaffReads(name=name, role=str(role), reads=reads, last_read=last)
        for name, role, reads, last in db.session.execute(stmt).all()
    ]


def filter_choices() -> tuple[list[tuple[int, str]], list[str]]:
    """The staff accounts and the actions the filters offer."""
    staff = db.session.execute(
        select(User.id, User.display_name)
        .where(User.role.in_(STAFF_ROLES))
        .order_by(User.display_name, User.id)
    ).all()
    actions = db.session.scalars(
        select(AuditEvent.action).group_by(AuditEvent.action).order_by(AuditEvent.action)
    ).all()
    return [(user_id, name) for user_id, name in staff], list(actions)


def patient_exists(patient_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(func.count(PatientProfile.id)).where(PatientProfile.id == patient_id)
        )
    )
