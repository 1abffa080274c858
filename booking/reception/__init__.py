"""The reception blueprint."""

from booking.reception import (  # noqa: F401 - each registers its routes on bp
    book_views,
    intake_views,
    patient_views,
    plan_views,
    waitlist_views,
)
from booking.reception.views import bp

__all__ = ["bp"]
