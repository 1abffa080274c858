"""The practitioner blueprint."""

from booking.practitioner.views import bp

__all__ = ["bp"]
