"""The post-treatment check-in link: a patient reports side effects after a first session."""

from booking.aftercare.views import bp

__all__ = ["bp"]
