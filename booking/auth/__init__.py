"""The auth blueprint."""

from booking.auth.views import bp

__all__ = ["bp"]
