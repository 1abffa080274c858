"""The admin blueprint."""

from booking.admin import account_views, schedule_views  # noqa: F401 - register routes on bp
from booking.admin.views import bp

__all__ = ["bp"]
