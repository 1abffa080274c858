"""The auth blueprint."""

from booking.auth import two_step_views  # noqa: F401 - registers the two-step routes on bp
from booking.auth.views import bp

__all__ = ["bp"]
