"""The manage blueprint: a session's manage link and asking for a new one (ux.md §5)."""

from booking.manage.views import bp

__all__ = ["bp"]
