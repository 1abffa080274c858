"""The intake blueprint: a patient's health questions and consent (ux.md §5 M6)."""

from booking.intake.views import bp

__all__ = ["bp"]
