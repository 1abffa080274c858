"""The audit trail's hash chain: each row's hash covers its fields and the previous row's hash.

Changing, removing or re-ordering a row breaks the link at the next row, so `audit verify`
names the first row whose stored hashes no longer follow from the rows before it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

# The fields a row's hash covers, in this order (migration 20261206_s20auth_mfa_audit_chain
# chains the rows that existed before it with a frozen copy of this recipe).
CHAINED_FIELDS = (
    "occurred_at",
    "actor_user_id",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "ip_address",
    "request_id",
    "detail",
)


@dataclass(frozen=True)
class ChainedRow:
    """One audit row as stored: its id, the chained fields, and both hashes."""

    row_id: int
    fields: dict[str, object]
    prev_hash: str | None
    row_hash: str | None


@dataclass(frozen=True)
class BrokenLink:
    row_id: int
    reason: str


def row_hash(prev_hash: str | None, fields: dict[str, object]) -> str:
    """The SHA-256 (hex) of the previous hash and the row's fields in `CHAINED_FIELDS` order.

    `occurred_at` must be an aware datetime; it is hashed as its UTC ISO 8601 text.
    """
    values: list[object] = [prev_hash or ""]
    for name in CHAINED_FIELDS:
        value = fields.get(name)
        if name == "occurred_at":
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise ValueError("occurred_at must be an aware datetime")
            value = value.astimezone(UTC).isoformat()
        values.append(value)
    payload = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def first_broken_link(rows: Iterable[ChainedRow]) -> BrokenLink | None:
    """The first row, in id order, whose hashes do not follow from the rows before it."""
    previous: str | None = None
    for row in rows:
        if row.prev_hash != previous:
            return BrokenLink(row.row_id, "its previous-row hash does not match the row before")
        if row.row_hash != row_hash(row.prev_hash, row.fields):
            return BrokenLink(row.row_id, "its contents do not match its hash")
        previous = row.row_hash
    return None
