"""Accounts and their server-side sessions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models.base import Base
from booking.models.types import str_enum


class Role(enum.StrEnum):
    patient = "patient"
    practitioner = "practitioner"
    receptionist = "receptionist"
    admin = "admin"


STAFF_ROLES = frozenset({Role.practitioner, Role.receptionist, Role.admin})


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, name="role"))
    display_name: Mapped[str] = mapped_column(String(200))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]
    # Staff two-step sign-in: the Fernet-encrypted TOTP secret (set at enrolment, confirmed
    # when `totp_enabled_at` is set) and the last accepted time step, never accepted again.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    sessions: Mapped[list[UserSession]] = relationship(back_populates="user")

    # Flask-Login protocol, written out so no mixin hides what is checked.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enabled_at is not None


class UserSession(Base):
    """A signed-in browser; the cookie holds a random token whose hash is stored here."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    ip_address: Mapped[str | None] = mapped_column(String(45))
    # Signed in with a password only: until the second step (or enrolment) is done the
    # session signs nobody in (the user loader refuses it).
    mfa_pending: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(back_populates="sessions")


class RecoveryCode(Base):
    """A single-use recovery code for a lost authenticator, stored as its SHA-256."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]
