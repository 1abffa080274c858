"""The patient blueprint."""

from booking.patient import (
    data_views,  # noqa: F401 - registers the data-rights routes on bp
    plan_views,  # noqa: F401 - registers the plan routes on bp
)
from booking.patient.views import bp

__all__ = ["bp"]
