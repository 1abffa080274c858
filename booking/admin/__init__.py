"""The admin blueprint."""

from booking.admin import (  # noqa: F401 - register routes on bp
    account_views,
    holiday_views,
    outbox_views,
    privacy_views,
    schedule_views,
    security_views,
)
from booking.admin.views import bp

__all__ = ["bp"]
