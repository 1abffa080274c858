"""Side effects reported through the check-in link, and reception's follow-up of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.domain.errors import InvalidInput, NotFound
from booking.extensions import db
from booking.models import AftercareCheckin, Appointment, SideEffectReport, User
from booking.services.platform.audit import record_event
from booking.services.platform.tokens import token_hash

EFFECTS = {
    "bruising": "Bruising",
    "soreness": "Soreness",
    "tiredness": "Tiredness",
    "fainting": "Fainting or feeling faint",
    "other": "Something else",
    "none": "I feel fine",
}
DETAIL_MAX = 1000
DAY_VIEW_DAYS = 7  # open reports show on the practitioner's day view this long


@dataclass(frozen=True)
class ReportLine:
    """A report as staff lists show it."""

    report: SideEffectReport
    appointment: Appointment

    @property
    def effect_labels(self) -> list[str]:
        return [EFFECTS[code] for code in self.report.effects.split(",") if code in EFFECTS]

    @property
    def urgent(self) -> bool:
        return "fainting" in self.report.effects.split(",")


def checkin_by_token(token: str, *, now: datetime) -> AftercareCheckin:
    """The check-in an emailed link names while it works; NotFound otherwise."""
    if not token or len(token) > 100:
        raise NotFound("This link has expired or is not valid.")
    checkin = db.session.scalar(
        select(AftercareCheckin).where(AftercareCheckin.token_hash == token_hash(token))
    )
    if checkin is None or checkin.expires_at <= now:
        raise NotFound("This link has expired or is not valid.")
    return checkin


def report(
    checkin: AftercareCheckin, *, effects: list[str], detail: str, now: datetime
) -> SideEffectReport:
    """Record what the patient reported; "none" stands alone, "other" needs a description."""
    codes = [code for code in EFFECTS if code in effects]
    if not codes or len(codes) != len(set(effects)):
        raise InvalidInput("Select how you are feeling.", field="effects")
    if "none" in codes and len(codes) > 1:
        raise InvalidInput(
            "Select “I feel fine” or the effects you have, not both.", field="effects"
        )
    detail = detail.strip()[:DETAIL_MAX]
    if "other" in codes and not detail:
        raise InvalidInput("Describe what else you have noticed.", field="detail")
    row = SideEffectReport(
        checkin_id=checkin.id,
        effects=",".join(codes),
        detail=detail or None,
        created_at=now,
        # Nothing to follow up when the patient feels fine and wrote nothing.
        followed_up_at=now if codes == ["none"] and not detail else None,
    )
    db.session.add(row)
    db.session.flush()
    record_event(
        "aftercare.report",
        actor=None,
        now=now,
        object_type="side_effect_report",
        object_id=row.id,
        patient_id=checkin.appointment.patient_id,
    )
    return row


def _lines(query: object) -> list[ReportLine]:
    rows = db.session.scalars(
        query.options(  # type: ignore[attr-defined]
            selectinload(SideEffectReport.checkin)
            .selectinload(AftercareCheckin.appointment)
            .selectinload(Appointment.patient)
        ).order_by(SideEffectReport.created_at.desc(), SideEffectReport.id.desc())
    )
    return [ReportLine(row, row.checkin.appointment) for row in rows]


def open_reports() -> list[ReportLine]:
    """Reports reception has not followed up yet, newest first."""
    return _lines(select(SideEffectReport).where(SideEffectReport.followed_up_at.is_(None)))


def reports_for_practitioner(practitioner_id: int, *, now: datetime) -> list[ReportLine]:
    """This practitioner's patients' reports of the last week (their day view)."""
    return _lines(
        select(SideEffectReport)
        .join(AftercareCheckin, AftercareCheckin.id == SideEffectReport.checkin_id)
        .join(Appointment, Appointment.id == AftercareCheckin.appointment_id)
        .where(
            Appointment.practitioner_id == practitioner_id,
            SideEffectReport.created_at > now - timedelta(days=DAY_VIEW_DAYS),
            SideEffectReport.effects != "none",
        )
    )


def follow_up(report_id: int, *, actor: User, now: datetime) -> SideEffectReport:
    """Mark a report followed up (reception called the patient); twice changes nothing."""
    row = db.session.get(SideEffectReport, report_id)
    if row is None:
        raise NotFound("That report does not exist.")
    if row.followed_up_at is None:
        row.followed_up_at = now
        row.followed_up_by_id = actor.id
        record_event(
            "aftercare.follow_up",
            actor=actor,
            now=now,
            object_type="side_effect_report",
            object_id=row.id,
            patient_id=row.checkin.appointment.patient_id,
        )
    return row
