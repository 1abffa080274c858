"""The admin blueprint."""

from booking.admin import schedule_views  # noqa: F401 - registers its routes on bp
from booking.admin.views import bp

__all__ = ["bp"]
