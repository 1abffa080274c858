"""The patient blueprint."""

from booking.patient.views import bp

__all__ = ["bp"]
