"""The reception blueprint."""

from booking.reception import (
    intake_views,  # noqa: F401 - registers the intake routes on bp
    waitlist_views,  # noqa: F401 - waitlist and follow-up routes
)
from booking.reception.views import bp

__all__ = ["bp"]
