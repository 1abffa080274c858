"""The clinic's default booking policies, changed by admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking.domain.errors import InvalidInput, NotFound
from booking.extensions import db
from booking.models import Clinic, LateCancelMode, User
from booking.services.clinic.checks import LIMITS, apply_changes, audit_change, check_step
from booking.services.clinic.settings import get_clinic


@dataclass(frozen=True, slots=True)
class PolicyValues:
    min_notice_minutes: int
    max_advance_days: int
    slot_step_minutes: int
    cancellation_cutoff_hours: int
    late_cancel_mode: str
    missed_threshold: int


def update_policies(values: PolicyValues, *, actor: User, now: datetime) -> Clinic:
    """Change the clinic's default booking policies.

    Raises NotFound when no clinic is set up, InvalidInput (with `field`) for a value out of
    range, a slot step other than 5, 10, 15, 20 or 30, or an unknown late-cancel mode.
    """
    clinic = get_clinic()
    if clinic is None:
        raise NotFound("No clinic is set up yet")
    for name in (
        "min_notice_minutes",
        "max_advance_days",
        "cancellation_cutoff_hours",
        "missed_threshold",
    ):
        LIMITS[name].check(getattr(values, name), name)
    check_step(values.slot_step_minutes, optional=False)
    if values.late_cancel_mode not in {m.value for m in LateCancelMode}:
        raise InvalidInput("Select what happens inside the cut-off", field="late_cancel_mode")
    changed = apply_changes(
        clinic,
        {
            "min_notice_minutes": values.min_notice_minutes,
            "max_advance_days": values.max_advance_days,
            "slot_step_minutes": values.slot_step_minutes,
            "cancellation_cutoff_hours": values.cancellation_cutoff_hours,
            "late_cancel_mode": LateCancelMode(values.late_cancel_mode),
            "missed_threshold": values.missed_threshold,
        },
    )
    db.session.flush()
    audit_change("setup.policies.update", clinic, actor, now, changed)
    return clinic
