"""The Flask class Meridian runs on: Flask's own, minus two per-request costs (issue 22)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from booking.session_cookie import SessionInterface

# Callables Flask has checked once: request hooks, views, error handlers (a fixed set).
_KNOWN_MAX = 4096


class App(Flask):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session_interface = SessionInterface()
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's answer, remembered per function.

        Flask asks `inspect.iscoroutinefunction` for every hook, view and error handler of
        every request: about 15 calls a request. The answer for a given function never
        changes, so it is kept (an unhashable callable is simply asked each time).
        """
        try:
            return self._sync[func]
        except KeyError:
            found = super().ensure_sync(func)
            if len(self._sync) < _KNOWN_MAX:
                self._sync[func] = found
            return found
        except TypeError:
            return super().ensure_sync(func)
