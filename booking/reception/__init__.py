"""The reception blueprint."""

from booking.reception.views import bp

__all__ = ["bp"]
