"""The public blueprint: the start page and the pages every footer links to."""

from booking.public import health  # noqa: F401 - registers /healthz on bp
from booking.public.views import bp

__all__ = ["bp"]
