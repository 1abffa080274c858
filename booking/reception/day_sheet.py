"""The day sheet's rows as the page shows them: words and links worked out once, in Python.

The template used to work each row out itself (zone conversions, filters, look-ups in four
dicts, a url_for-like call per button): about 0.1 ms a row, most of a 100-session sheet's
CPU (issue 22). Here each row's words come from plain values (`listings.SheetSession`);
the template only places them. Times are formatted once per (start, end, zone), which many
sessions share.

Every text of a row is escaped here (`Markup`), once, so many rows share one escaping of a
repeated word; the template's autoescaping then passes each Markup through as it is.
Autoescaping stays on (security.md §4: nothing is written out unescaped outside the
allowlist in tests/integration/test_articles_sanitiser.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from booking.domain.formatting import format_time
from booking.links import id_links
from booking.models import AppointmentStatus
from booking.services.booking.listings import SheetSession

ARRIVAL = {
    "booked": "Not arrived",
    "checked_in": "Arrived",
    "completed": "Seen",
    "no_show": "Did not come",
}


class _Escaped(dict[str, Markup]):
    """Each text escaped once per sheet: many repeat (practitioners, types, rooms, words)."""

    def __missing__(self, text: str) -> Markup:
        self[text] = escaped = escape(text)
        return escaped


@dataclass(slots=True)
class SheetRow:
    """One row of the sheet, every text already escaped (`Markup`)."""

    id: int
    time: Markup
    record_url: Markup
    name: Markup
    first_visit: bool
    practitioner: Markup
    session: Markup
    sequence: Markup | None  # "Session k of N" in a treatment plan
    room: Markup
    arrival: Markup
    missed: int | None  # shown when at or over the clinic's threshold
    flags: list[Markup]
    intake: Markup
    intake_url: Markup | None
    status: str
    action_url: Markup | None  # check in, undo check-in or undo no-show, by status
    no_show_url: Markup | None  # "Did not come": booked and already started


def sheet_rows(
    sessions: list[SheetSession],
    *,
    zones: Mapping[int, ZoneInfo],
    notes: Mapping[int, dict[str, Any]],
    sequences: Mapping[int, tuple[int, int, int]],
    missed: Mapping[int, int],
    threshold: int,
    now: datetime,
) -> list[SheetRow]:
    """One `SheetRow` per session, in the given order; `zones` by location id."""
    record_url = id_links("reception.patient_record", "patient_id")
    action_urls = {
        AppointmentStatus.booked: id_links("reception.check_in", "appointment_id"),
        AppointmentStatus.checked_in: id_links("reception.undo_check_in", "appointment_id"),
        AppointmentStatus.no_show: id_links("reception.undo_no_show", "appointment_id"),
    }
    no_show_url = id_links("reception.no_show", "appointment_id")
    times: dict[tuple[datetime, datetime, int], Markup] = {}
    esc = _Escaped()
    rows = []
    for s in sessions:
        key = (s.starts_at, s.ends_at, s.location_id)
        time = times.get(key)
        if time is None:
            zone = zones[s.location_id]
            time = times[key] = escape(
                f"{format_time(s.starts_at.astimezone(zone))} to "
                f"{format_time(s.ends_at.astimezone(zone))}"
            )
        note = notes[s.id]
        seq = sequences.get(s.id)
        count = missed[s.patient_id]
        action = action_urls.get(s.status)
        rows.append(
            SheetRow(
                id=s.id,
                time=time,
                record_url=escape(record_url(s.patient_id)),
                name=escape(s.patient_name),
                first_visit=s.is_first_visit,
                practitioner=esc[s.practitioner_name],
                session=esc[s.session_type_name],
                sequence=None if seq is None else escape(f"Session {seq[0]} of {seq[1]}"),
                room=esc["None" if s.room_name is None else s.room_name],
                arrival=esc[ARRIVAL[s.status.value]],
                missed=count if count >= threshold else None,
                flags=[esc[label] for label in note["flags"]],
                intake=esc[note["intake"]],
                intake_url=None if note["intake_url"] is None else escape(note["intake_url"]),
                status=s.status.value,
                action_url=None if action is None else escape(action(s.id)),
                no_show_url=escape(no_show_url(s.id))
                if s.status == AppointmentStatus.booked and s.starts_at <= now
                else None,
            )
        )
    return rows
