"""Session types and who offers them, added and changed by admins."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from booking.domain.errors import InvalidInput, NotFound
from booking.extensions import db
from booking.models import (
    Audience,
    Practitioner,
    RoomKind,
    SessionType,
    User,
    practitioner_session_type,
)
from booking.services.clinic.checks import (
    LIMITS,
    MAX_PRICE_PENCE,
    apply_changes,
    audit_change,
    check_name,
    unique_slug,
)

MODALITIES = ("needling", "electro_acupuncture", "cupping", "moxibustion", "gua_sha")


@dataclass(frozen=True, slots=True)
class SessionTypeValues:
    name: str
    description: str
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    price_pence: int | None
    audience: str
    room_kind: str | None
    modalities: tuple[str, ...]
    practitioner_ids: tuple[int, ...]
    sort_order: int
    is_active: bool


@dataclass(frozen=True, slots=True)
class SessionTypeRow:
    """A session type with the names of the practitioners who offer it."""

    session_type: SessionType
    practitioner_names: tuple[str, ...]


def session_type_rows() -> list[SessionTypeRow]:
    """Every session type in list order with who offers it, in two queries."""
    types = list(
        db.session.scalars(select(SessionType).order_by(SessionType.sort_order, SessionType.id))
    )
    offered: dict[int, list[str]] = {}
    pairs = db.session.execute(
        select(practitioner_session_type.c.session_type_id, Practitioner.display_name)
        .join(Practitioner, Practitioner.id == practitioner_session_type.c.practitioner_id)
        .order_by(Practitioner.display_name)
    )
    for session_type_id, name in pairs:
        offered.setdefault(session_type_id, []).append(name)
    return [SessionTypeRow(t, tuple(offered.get(t.id, ()))) for t in types]


def offered_by(session_type_id: int) -> list[int]:
    """Ids of the practitioners who offer a session type."""
    return list(
        db.session.scalars(
            select(practitioner_session_type.c.practitioner_id).where(
                practitioner_session_type.c.session_type_id == session_type_id
            )
        )
    )


def _session_type_fields(
    values: SessionTypeValues, session_type_id: int | None
) -> tuple[dict[str, object], list[Practitioner]]:
    name = check_name(values.name)
    clash = db.session.scalar(
        select(SessionType.id).where(
            func.lower(SessionType.name) == name.lower(),
            SessionType.id != (session_type_id or 0),
        )
    )
    if clash is not None:
        raise InvalidInput(f"There is already a session type called {name}", field="name")
    description = values.description.strip()
    if len(description) > 500:
        raise InvalidInput("Description must be 500 characters or fewer", field="description")
    for field in (
        "duration_minutes",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "sort_order",
    ):
        LIMITS[field].check(getattr(values, field), field)
    if values.price_pence is not None and not 0 <= values.price_pence <= MAX_PRICE_PENCE:
        raise InvalidInput("Price must be between £0 and £1,000", field="price")
    if values.audience not in {a.value for a in Audience}:
        raise InvalidInput("Select who can book it online", field="audience")
    if values.room_kind is not None and values.room_kind not in {k.value for k in RoomKind}:
        raise InvalidInput("Select the room it needs", field="room_kind")
    unknown = set(values.modalities) - set(MODALITIES)
    if unknown:
        raise InvalidInput("Select treatments from the list", field="modalities")
    wanted = set(values.practitioner_ids)
    practitioners = list(
        db.session.scalars(select(Practitioner).where(Practitioner.id.in_(wanted)))
    )
    if len(practitioners) != len(wanted):
        raise InvalidInput("Select practitioners from the list", field="practitioner_ids")
    fields: dict[str, object] = {
        "name": name,
        "description": description,
        "duration_minutes": values.duration_minutes,
        "buffer_before_minutes": values.buffer_before_minutes,
        "buffer_after_minutes": values.buffer_after_minutes,
        "price_pence": values.price_pence,
        "audience": Audience(values.audience),
        "room_kind": RoomKind(values.room_kind) if values.room_kind else None,
        # Stored in the catalogue's order so a re-save with the same ticks changes nothing.
        "modalities": ",".join(m for m in MODALITIES if m in values.modalities),
        "sort_order": values.sort_order,
        "is_active": values.is_active,
    }
    return fields, practitioners


def _set_practitioners(session_type: SessionType, practitioners: list[Practitioner]) -> bool:
    """Make exactly these practitioners offer the type; True when that changed anything."""
    wanted = {p.id for p in practitioners}
    current = set(offered_by(session_type.id))
    if wanted == current:
        return False
    table = practitioner_session_type
    if current - wanted:
        db.session.execute(
            table.delete().where(
                table.c.session_type_id == session_type.id,
                table.c.practitioner_id.in_(current - wanted),
            )
        )
    for practitioner_id in sorted(wanted - current):
        db.session.execute(
            table.insert().values(session_type_id=session_type.id, practitioner_id=practitioner_id)
        )
    # The rows changed behind the ORM: loaded `Practitioner.session_types` lists are now stale.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Practitioner):
            db.session.expire(obj, ["session_types"])
    return True


def create_session_type(values: SessionTypeValues, *, actor: User, now: datetime) -> SessionType:
    """Add a session type; its slug comes from its name and never changes afterwards.

    Raises InvalidInput (with `field`) for an empty or taken name, a duration outside 20 to 40
    minutes, buffers outside 0 to 30, a price outside £0 to £1,000, or unknown choices.
    """
    fields, practitioners = _session_type_fields(values, None)
    session_type = SessionType(
        slug=unique_slug(SessionType, str(fields["name"]), "session"), **fields
    )
    db.session.add(session_type)
    db.session.flush()
    _set_practitioners(session_type, practitioners)
    db.session.flush()
    audit_change("setup.session_type.create", session_type, actor, now, fields)
    return session_type


def update_session_type(
    session_type_id: int, values: SessionTypeValues, *, actor: User, now: datetime
) -> SessionType:
    """Change a session type; booked sessions keep the times and buffers copied at booking.

    Raises NotFound for an unknown id, and InvalidInput as `create_session_type` does.
    """
    session_type = db.session.get(SessionType, session_type_id)
    if session_type is None:
        raise NotFound("Session type not found")
    fields, practitioners = _session_type_fields(values, session_type.id)
    changed = apply_changes(session_type, fields)
    if _set_practitioners(session_type, practitioners):
        changed.append("practitioners")
    db.session.flush()
    audit_change("setup.session_type.update", session_type, actor, now, changed)
    return session_type


def session_type_choices(selected: Iterable[int] = ()) -> list[tuple[int, str]]:
    """Bookable session types, plus any others already chosen, as (id, name)."""
    keep = set(selected)
    rows = db.session.execute(
        select(SessionType.id, SessionType.name, SessionType.is_active).order_by(
            SessionType.sort_order, SessionType.id
        )
    )
    return [(tid, name) for tid, name, active in rows if active or tid in keep]
