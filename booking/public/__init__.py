"""The public blueprint."""

from booking.public.views import bp

__all__ = ["bp"]
