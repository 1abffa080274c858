"""The public blueprint: the start page, the pages every footer links to, the opt-out link."""

from booking.public import unsubscribe_views  # noqa: F401 - registers its route on bp
from booking.public.views import bp

__all__ = ["bp"]
