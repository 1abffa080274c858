"""The reception blueprint."""

from booking.reception import intake_views  # noqa: F401 - registers the intake routes on bp
from booking.reception.views import bp

__all__ = ["bp"]
