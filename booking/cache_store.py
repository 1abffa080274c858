"""Where computed availability answers are kept: per worker, and in Redis when configured.

Entries are keyed by the version stamps they were computed from (see
booking/services/booking/availability_cache.py), so a store never decides freshness: an
entry is only found by a reader whose stamps are the same, and only until its `until`
instant. Losing entries (eviction, a Redis restart or outage) costs a recomputation, never
a wrong answer. Values travel as JSON, never pickle.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime

import redis

from booking.domain.scheduling.values import Slot

log = logging.getLogger(__name__)

# One fast answer or none: a slow Redis must not slow the page below a recomputation.
REDIS_TIMEOUT_SECONDS = 0.25
# A shared entry lives at most this long whatever its `until` (the day turns anyway).
MAX_SHARED_SECONDS = 24 * 3600

Entry = tuple[datetime, tuple[Slot, ...]]


class SlotStore:
    """A bounded LRU of answers in this process, in front of an optional Redis."""

    def __init__(self, *, max_entries: int, redis_url: str | None, prefix: str) -> None:
        self.max_entries = max_entries
        self.prefix = prefix
        self._local: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._redis = (
            redis.Redis.from_url(
                redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            if redis_url
            else None
        )

    @property
    def shared(self) -> bool:
        return self._redis is not None

    def get(self, key: str, now: datetime) -> Entry | None:
        with self._lock:
            entry = self._local.get(key)
            if entry is not None:
                if now < entry[0]:
                    self._local.move_to_end(key)
                    return entry
                del self._local[key]
        entry = self._get_shared(key)
        if entry is None or not now < entry[0]:
            return None
        self._keep(key, entry)
        return entry

    def put(self, key: str, entry: Entry, now: datetime) -> None:
        if not now < entry[0]:
            return
        self._keep(key, entry)
        if self._redis is None:
            return
        seconds = max(1, min(MAX_SHARED_SECONDS, int((entry[0] - now).total_seconds())))
        try:
            self._redis.set(self.prefix + key, _dump(entry), ex=seconds)
        except redis.RedisError as error:
            log.warning("availability cache: Redis write failed (%s)", type(error).__name__)

    def clear(self) -> None:
        with self._lock:
            self._local.clear()

    def _keep(self, key: str, entry: Entry) -> None:
        with self._lock:
            self._local[key] = entry
            self._local.move_to_end(key)
            while len(self._local) > self.max_entries:
                self._local.popitem(last=False)

    def _get_shared(self, key: str) -> Entry | None:
        if self._redis is None:
            return None
        try:
            raw = self._redis.get(self.prefix + key)
        except redis.RedisError as error:
            log.warning("availability cache: Redis read failed (%s)", type(error).__name__)
            return None
        if not isinstance(raw, bytes):
            return None
        try:
            return _load(raw)
        except (ValueError, TypeError, KeyError):
            return None


def _dump(entry: Entry) -> str:
    until, slots = entry
    return json.dumps(
        {
            "until": until.isoformat(),
            "slots": [
                [
                    s.starts_at.isoformat(),
                    s.ends_at.isoformat(),
                    s.busy_from.isoformat(),
                    s.busy_until.isoformat(),
                    s.practitioner_id,
                    s.room_id,
                    s.room_place,
                ]
                for s in slots
            ],
        }
    )


def _load(raw: bytes) -> Entry:
    data = json.loads(raw)
    rows: Sequence[list[object]] = data["slots"]
    slots = tuple(
        Slot(
            datetime.fromisoformat(str(a)),
            datetime.fromisoformat(str(b)),
            datetime.fromisoformat(str(c)),
            datetime.fromisoformat(str(d)),
            int(str(pid)),
            None if room is None else int(str(room)),
            None if place is None else int(str(place)),
        )
        for a, b, c, d, pid, room, place in rows
    )
    return datetime.fromisoformat(data["until"]), slots
