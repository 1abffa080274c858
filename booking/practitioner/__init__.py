"""The practitioner blueprint."""

from booking.practitioner import (  # noqa: F401 - each registers its routes on bp
    book_views,
    calendar_views,
    feed_views,
    intake_views,
    note_views,
    plan_views,
)
from booking.practitioner.views import bp

__all__ = ["bp"]
