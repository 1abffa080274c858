"""Encoded availability answers kept per worker, keyed by their ETag (issue 22).

The API's availability ETag is a strong validator: derived from the version stamps and time
bucket of the answer and the query asked (booking/api/views.py), equal tags mean equal
bodies; that is what lets a client's `If-None-Match` be answered 304. So the body encoded
for a tag can be sent again for the same tag, without placing the times or encoding JSON:
it is exactly as fresh as the 304 for that tag. Bounded by total size, least recently used
out first; each worker keeps its own (they are cheap to rebuild).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app

# Most answers (one practitioner, one day) are a few hundred bytes; a 100-item page ~20 kB.
MAX_BYTES = 4 * 1024 * 1024


class AnswerCache:
    """A bounded LRU of encoded bodies by tag."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tag: str) -> bytes | None:
        with self._lock:
            body = self._bodies.get(tag)
            if body is not None:
                self._bodies.move_to_end(tag)
            return body

    def put(self, tag: str, body: bytes) -> None:
        if len(body) > self.max_bytes // 16:
            return  # one huge answer must not empty the cache
        with self._lock:
            old = self._bodies.pop(tag, None)
            if old is not None:
                self.size -= len(old)
            self._bodies[tag] = body
            self.size += len(body)
            while self.size > self.max_bytes:
                _, dropped = self._bodies.popitem(last=False)
                self.size -= len(dropped)

    def __len__(self) -> int:
        return len(self._bodies)


def answers() -> AnswerCache:
    """This app's cache (each app its own: tests build many)."""
    found = current_app.extensions.get("api_answers")
    if found is None:
        found = current_app.extensions.setdefault("api_answers", AnswerCache())
    return found
