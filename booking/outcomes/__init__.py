"""Sending outcome scores online (issue 17): the emailed link's pages, /scores/..., and the
question pages shared with the patient's account."""

from booking.outcomes.views import bp

__all__ = ["bp"]
