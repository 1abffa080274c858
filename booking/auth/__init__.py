"""The auth blueprint."""

from booking.auth import account_views  # noqa: F401 - registers its routes on bp
from booking.auth.views import bp

__all__ = ["bp"]
