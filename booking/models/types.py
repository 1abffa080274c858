"""Column types shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and returns them aware; refuses naive values.

    SQLite keeps no offset, so values are normalised to UTC before binding and the
    zone is re-attached on load; text comparison in the overlap triggers relies on it.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: pass an aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        """On SQLite, read the stored UTC text straight into an aware datetime.

        One C call per value instead of SQLAlchemy's parse plus `replace`: availability reads
        thousands of these per request. Text in any other shape takes the general path.
        """
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite":
            return general
        parse = datetime.fromisoformat

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, str) and len(value) == 26 and value[10] == " ":
                return parse(value + "+00:00")
            return general(value) if general is not None else value

        return process


def str_enum(enum_cls: type[enum.StrEnum], **kwargs: Any) -> Enum:
    """A portable VARCHAR + CHECK enum storing the lower-case values."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        **kwargs,
    )
