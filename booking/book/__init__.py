"""The book blueprint: the guest booking journey, `/book/...` (ux.md §2–§4)."""

from booking.book import check_views, details_views, time_views  # noqa: F401 - register routes
from booking.book.views import bp

__all__ = ["bp"]
