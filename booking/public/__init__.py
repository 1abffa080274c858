"""The public blueprint: start page, booking journey and manage links."""

from booking.public import booking_views, manage_views  # noqa: F401 - registers their routes
from booking.public.views import bp

__all__ = ["bp"]
