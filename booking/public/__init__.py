"""The public blueprint: the start page and the pages every footer links to."""

from booking.public.views import bp

__all__ = ["bp"]
