"""The day sheet's rows as the page shows them: words and links worked out once, in Python.

The template used to work each row out itself (zone conversions, filters, look-ups in four
dicts, a url_for-like call per button): about 0.1 ms a row, most of a 100-session sheet's
CPU (issue 22). Here each row's words come from plain values (`listings.SheetSession`);
the template only places them. Times are formatted once per (start, end, zone), which many
sessions share.

Every text of a row is a plain `str`, escaped once, by the template's autoescaping
(security.md §4). They were escaped here first (`Markup`), for a template that wrote them
out unescaped; with autoescaping back on, Jinja copied each Markup into a new one as it
wrote it out: ~1,500 such copies for a 100-session sheet, more CPU than escaping the
strings themselves (issue 22).

Each row's HTML (reception/_sheet_row.html) depends on its values only, so each worker keeps
it by them (`rows_html`, booking/fragments.py): a sheet renders just the rows that changed
since it was last shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from markupsafe import Markup

from booking.domain.formatting import format_time
from booking.fragments import kept
from booking.links import id_links
from booking.models import AppointmentStatus
from booking.services.booking.listings import SheetSession

ARRIVAL = {
    "booked": "Not arrived",
    "checked_in": "Arrived",
    "completed": "Seen",
    "no_show": "Did not come",
}


# Rows kept rendered per worker: a chain's whole day at 1,000,000 appointments is ~700
# sessions, at ~1.2 KB of HTML each (~2.5 MB at most).
ROWS_KEPT = 2048
ROW = "reception/_sheet_row.html"
# Where each form of a kept row takes the request's CSRF field (reception/_sheet_row.html).
CSRF_MARK = "<!--meridian-csrf-->"


class SheetRow(NamedTuple):
    """One row of the sheet: its texts (plain, escaped by the template) and links.

    A tuple: the key its rendered HTML is kept by (`rows_html`), hashed and compared in C.
    """

    id: int
    time: str
    record_url: str
    name: str
    first_visit: bool
    practitioner: str
    session: str
    sequence: str | None  # "Session k of N" in a treatment plan
    room: str
    arrival: str
    missed: int | None  # shown when at or over the clinic's threshold
    flags: tuple[str, ...]
    intake: str
    intake_url: str | None
    status: str
    action_url: str | None  # check in, undo check-in or undo no-show, by status
    no_show_url: str | None  # "Did not come": booked and already started


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
    times: dict[tuple[datetime, datetime, int], str] = {}
    rows = []
    for s in sessions:
        key = (s.starts_at, s.ends_at, s.location_id)
        time = times.get(key)
        if time is None:
            zone = zones[s.location_id]
            time = times[key] = (
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
                record_url=record_url(s.patient_id),
                name=s.patient_name,
                first_visit=s.is_first_visit,
                practitioner=s.practitioner_name,
                session=s.session_type_name,
                sequence=None if seq is None else f"Session {seq[0]} of {seq[1]}",
                room="None" if s.room_name is None else s.room_name,
                arrival=ARRIVAL[s.status.value],
                missed=count if count >= threshold else None,
                flags=tuple(note["flags"]),
                intake=note["intake"],
                intake_url=note["intake_url"],
                status=s.status.value,
                action_url=None if action is None else action(s.id),
                no_show_url=no_show_url(s.id)
                if s.status == AppointmentStatus.booked and s.starts_at <= now
                else None,
            )
        )
    return rows


def rows_html(rows: Iterable[SheetRow], form: FlaskForm) -> Markup:
    """The rows' HTML (reception/_sheet_row.html, kept per worker by each row's values),
    each form in it with `form`'s CSRF field, which is new with each request."""
    render = kept(ROW, size=ROWS_KEPT)
    html = "".join([render(row) for row in rows])
    return Markup(html.replace(CSRF_MARK, csrf_input(form)))  # noqa: S704 - HTML from Markups


def csrf_input(form: FlaskForm) -> str:
    """`form`'s hidden CSRF field, without an id (the sheet repeats it in every row's form:
    one id many times is invalid HTML); "" where CSRF protection is off (some tests)."""
    field = getattr(form, "csrf_token", None)
    if field is None:
        return ""
    return Markup('<input name="{}" type="hidden" value="{}">').format(
        field.name, field.current_token
    )
