"""Idempotency-Key on API POSTs: the first answer is stored and replayed for 24 hours.

Keys are unique per token. The key's row is inserted before the work is done, in the same
transaction, so a concurrent retry with the same key waits for the first to commit (the
unique index) and then replays its answer; a failed request stores nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from booking.extensions import db
from booking.models import ApiIdempotencyKey

REPLAY_FOR = timedelta(hours=24)
PENDING = 0  # status_code of a row whose request has not finished


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


def claim_key(
    *, token_id: int, key: str, fingerprint: str, now: datetime
) -> tuple[ApiIdempotencyKey, bool]:
    """Return (row, is_new): a new pending row to fill in, or the stored answer to replay.

    Rows older than 24 hours are removed first, so an old key starts afresh.
    """
    db.session.execute(
        delete(ApiIdempotencyKey)
        .where(
            ApiIdempotencyKey.token_id == token_id, ApiIdempotencyKey.created_at <= now - REPLAY_FOR
        )
        .execution_options(synchronize_session=False)
    )
    lookup = select(ApiIdempotencyKey).where(
        ApiIdempotencyKey.token_id == token_id, ApiIdempotencyKey.idempotency_key == key
    )
    stored = db.session.scalar(lookup)
    if stored is not None:
        return stored, False
    row = ApiIdempotencyKey(
        token_id=token_id,
        idempotency_key=key,
        request_hash=fingerprint,
        status_code=PENDING,
        response_body="",
        created_at=now,
    )
    savepoint = db.session.begin_nested()
    try:
        db.session.add(row)
        db.session.flush()
    except IntegrityError:
        # Another request with this key committed first (PostgreSQL waited for it here).
        savepoint.rollback()
        stored = db.session.scalar(lookup.execution_options(populate_existing=True))
        if stored is None:  # pragma: no cover - the unique index said it exists
            raise
        return stored, False
    savepoint.commit()
    return row, True


def store_answer(row: ApiIdempotencyKey, *, status_code: int, body: str) -> None:
    """Fill in the answer of a claimed key; the caller commits it with the work."""
    row.status_code = status_code
    row.response_body = body
