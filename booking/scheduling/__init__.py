"""Pure scheduling engine: frozen dataclasses in, values out (architecture.md §5).

Only the standard library, `zoneinfo` and `tzdata`; `now` is always an argument.
"""

from booking.scheduling.availability import (
    AppointmentSpan,
    BusyRange,
    RoomInfo,
    ScheduleException,
    Slot,
    WeeklyHours,
    appointments_outside_hours,
    check_slot,
    compute_slots,
    least_booked_practitioner,
    local_label,
    nearest_slots,
    validate_weekly_hours,
)
from booking.scheduling.dst import is_ambiguous, is_gap, resolve_local
from booking.scheduling.errors import (
    DomainError,
    HoldExpired,
    InvalidInput,
    NotAllowed,
    NotFound,
    PolicyRefused,
    SlotTaken,
)
from booking.scheduling.intervals import overlaps
from booking.scheduling.policy import Policy, SessionTypeSpec

__all__ = [
    "AppointmentSpan",
    "BusyRange",
    "DomainError",
    "HoldExpired",
    "InvalidInput",
    "NotAllowed",
    "NotFound",
    "Policy",
    "PolicyRefused",
    "RoomInfo",
    "ScheduleException",
    "SessionTypeSpec",
    "Slot",
    "SlotTaken",
    "WeeklyHours",
    "appointments_outside_hours",
    "check_slot",
    "compute_slots",
    "is_ambiguous",
    "is_gap",
    "least_booked_practitioner",
    "local_label",
    "nearest_slots",
    "overlaps",
    "resolve_local",
    "validate_weekly_hours",
]
