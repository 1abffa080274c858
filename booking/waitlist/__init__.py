"""The waitlist: the emailed offer link (public), and the join form shared with the patient's
and reception's pages."""

from booking.waitlist.views import bp

__all__ = ["bp"]
