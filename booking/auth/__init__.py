"""The auth blueprint."""

from booking.auth import (  # noqa: F401 - register their routes on bp
    account_views,
    two_step_views,
)
from booking.auth.views import bp

__all__ = ["bp"]
