"""The public blueprint: the start page, the pages every footer links to, calendar feeds."""

from booking.public import feed_views  # noqa: F401 - registers the feed route on bp
from booking.public.views import bp

__all__ = ["bp"]
