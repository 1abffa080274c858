"""The admin blueprint."""

from booking.admin.views import bp

__all__ = ["bp"]
