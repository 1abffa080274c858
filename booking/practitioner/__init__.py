"""The practitioner blueprint."""

from booking.practitioner import intake_views  # noqa: F401 - registers the intake routes on bp
from booking.practitioner.views import bp

__all__ = ["bp"]
