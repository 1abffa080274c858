"""The public blueprint: the start page, the pages every footer links to, calendar feeds and
the opt-out link."""

from booking.public import (
    feed_views,  # noqa: F401 - registers the feed route on bp
    health,  # noqa: F401 - registers /healthz on bp
    unsubscribe_views,  # noqa: F401 - registers its route on bp
)
from booking.public.views import bp

__all__ = ["bp"]
