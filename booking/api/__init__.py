"""The api blueprint."""

from booking.api.views import bp

__all__ = ["bp"]
