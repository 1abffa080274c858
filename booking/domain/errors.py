"""Domain errors shared by the scheduling engine, the services and the web layer.

They live here so the pure engine can raise them without importing the app; `booking/errors.py`
maps each class to an HTTP status.
"""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    """A rule of the clinic refused the request; `message` is safe to show to the user."""

    code: str = "domain_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class NotFound(DomainError):  # noqa: N818 - names the condition, as the error table expects
    """The object does not exist or the actor may not know it exists."""

    code = "not_found"


class NotAllowed(DomainError):  # noqa: N818
    """The actor's role or ownership does not permit the action."""

    code = "not_allowed"


class SlotTaken(DomainError):  # noqa: N818
    """The chosen time is no longer free (practitioner, room or hours changed)."""

    code = "slot_taken"


class HoldExpired(DomainError):  # noqa: N818
    """The hold on a time ran out before it was confirmed."""

    code = "hold_expired"


class PolicyRefused(DomainError):  # noqa: N818
    """A clinic policy (notice, horizon, cancellation cut-off, ...) refuses the request."""

    code = "policy_refused"


class InvalidInput(DomainError):  # noqa: N818
    """The input is malformed or out of range; `field` names the offending field if known."""

    code = "invalid_input"

    def __init__(self, message: str, code: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message, code)
        self.field = field


class SeriesConflict(SlotTaken):
    """Some starts of a plan series are not free; nothing of the series was booked.

    `conflicts` lists the refused starts (aware UTC), in order.
    """

    code = "series_conflict"

    def __init__(self, message: str, conflicts: list[datetime]) -> None:
        super().__init__(message)
        self.conflicts = conflicts
