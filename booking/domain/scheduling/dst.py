"""Local wall time ↔ UTC, with the clinic's DST rules (domain.md §3, security.md §2).

- An interval's start uses `fold=0` (the first of a repeated wall time), its end `fold=1` (the
  second), so an interval over the repeated autumn hour covers both occurrences.
- A wall time inside a spring gap does not exist: it moves to the gap's end, the first valid
  wall time after it (01:30 on London's spring day becomes 02:00 BST).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booking.domain.errors import InvalidInput

SECONDS_PER_DAY = 86_400
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def get_zone(name: str) -> ZoneInfo:
    """Return the `ZoneInfo` for an IANA name.

    Raises InvalidInput (field `timezone`) for an unknown or malformed name.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InvalidInput(f"Unknown time zone {name!r}.", field="timezone") from exc


def require_aware(value: datetime, field: str) -> datetime:
    """Return `value` unchanged if it carries a UTC offset.

    Raises InvalidInput naming `field` for a naive datetime.
    """
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInput(f"{field} must be a timezone-aware datetime.", field=field)
    return value


def from_utc_seconds(seconds: int) -> datetime:
    """Return the aware UTC datetime for whole seconds since the epoch. Raises nothing."""
    return EPOCH + timedelta(seconds=seconds)


def second_of_day(value: time, *, round_up: bool = False) -> int:
    """Return seconds since midnight for a wall time (sub-second parts rounded as asked).

    Raises nothing.
    """
    seconds = value.hour * 3600 + value.minute * 60 + value.second
    if round_up and value.microsecond:
        seconds += 1
    return seconds


def _seconds(offset: timedelta | None) -> int:
    # A datetime carrying a ZoneInfo always has an offset; None cannot happen here.
    return int((offset or timedelta(0)).total_seconds())


def _offset_seconds(zone: ZoneInfo, utc_ts: int) -> int:
    return _seconds(datetime.fromtimestamp(utc_ts, tz=zone).utcoffset())


@lru_cache(maxsize=16_384)
def wall_to_utc(ordinal: int, seconds: int, zone: ZoneInfo, fold: int) -> int:
    """Return UTC seconds for local date `ordinal` at `seconds` past midnight (86_400 = next day).

    Gap times move to the gap's end. Raises nothing.
    """
    ordinal += seconds // SECONDS_PER_DAY
    seconds %= SECONDS_PER_DAY
    day = date.fromordinal(ordinal)
    hour, rest = divmod(seconds, 3600)
    minute, second = divmod(rest, 60)
    local = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone)
    first = _seconds(local.utcoffset())
    second_off = _seconds(local.replace(fold=1).utcoffset())
    naive = (ordinal - _EPOCH_ORDINAL) * SECONDS_PER_DAY + seconds
    if first < second_off:
        # A gap (the offset grows): find the transition instant, which is the gap's end.
        lo, hi = naive - second_off, naive - first  # offset(lo) = before, offset(hi) = after
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _offset_seconds(zone, mid) == second_off:
                hi = mid
            else:
                lo = mid
        return hi
    return naive - (second_off if fold else first)


def _offsets(day: date, wall: time, zone: str | ZoneInfo) -> tuple[int, int]:
    zone_info = get_zone(zone) if isinstance(zone, str) else zone
    local = datetime.combine(day, wall.replace(tzinfo=None, fold=0), tzinfo=zone_info)
    return _seconds(local.utcoffset()), _seconds(local.replace(fold=1).utcoffset())


def is_gap(day: date, wall: time, zone: str | ZoneInfo) -> bool:
    """Return whether `wall` on `day` does not exist in `zone` (spring-forward gap).

    Raises InvalidInput for an unknown zone name.
    """
    off0, off1 = _offsets(day, wall, zone)
    # PEP 495: in a gap fold=0 uses the offset before the change, which is the smaller one.
    return off0 < off1


def is_ambiguous(day: date, wall: time, zone: str | ZoneInfo) -> bool:
    """Return whether `wall` on `day` happens twice in `zone` (autumn repeated hour).

    Raises InvalidInput for an unknown zone name.
    """
    off0, off1 = _offsets(day, wall, zone)
    return off0 > off1


def resolve_local(
    day: date, wall: time, zone: str | ZoneInfo, *, fold: int = 0
) -> tuple[datetime, bool]:
    """Return (aware UTC instant, moved) for a local date and wall time in `zone`.

    `moved` is True when the wall time fell in a DST gap and was moved to the gap's end (plan
    occurrences mark these for review); `fold` picks the occurrence of a repeated time.
    Raises InvalidInput for an unknown zone name.
    """
    zone_info = get_zone(zone) if isinstance(zone, str) else zone
    seconds = second_of_day(wall)
    utc_ts = wall_to_utc(day.toordinal(), seconds, zone_info, fold)
    instant = from_utc_seconds(utc_ts) + timedelta(microseconds=wall.microsecond)
    return instant, is_gap(day, wall, zone_info)


def local_day_start(day: date, zone: ZoneInfo) -> int:
    """Return UTC seconds of the first instant of local `day` in `zone`. Raises nothing."""
    return wall_to_utc(day.toordinal(), 0, zone, 0)


def local_today(zone: ZoneInfo, *, now: datetime) -> date:
    """Return today's date in `zone` at the instant `now`: the one "today in a zone" helper."""
    return now.astimezone(zone).date()


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Return the UTC instants where local `day` starts and the next local day starts.

    A DST change day lasts 23 or 25 hours; a midnight inside a gap starts at the gap's end.
    """
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end
