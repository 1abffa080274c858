"""The book blueprint: the guest booking journey, `/book/...` (ux.md §2–§4)."""

from booking.book.views import bp

__all__ = ["bp"]
