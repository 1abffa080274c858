"""The articles blueprint."""

from booking.articles.views import bp

__all__ = ["bp"]
