"""Passwords: argon2id hashing and the rules a new password must meet (security.md §3)."""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from booking.domain.errors import InvalidInput
from booking.models import Role, User


def password_hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    """An argon2id hasher with the configured cost."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


_hashers: dict[tuple[int, int, int], tuple[PasswordHasher, str]] = {}


def hasher_for(cost: tuple[int, int, int]) -> tuple[PasswordHasher, str]:
    """Cache one hasher per cost, with a dummy hash verified for unknown emails."""
    if cost not in _hashers:
        hasher = password_hasher(*cost)
        _hashers[cost] = (hasher, hasher.hash(secrets.token_urlsafe(16)))
    return _hashers[cost]


def hash_password(password: str, *, cost: tuple[int, int, int]) -> str:
    """Hash a password with argon2id."""
    return hasher_for(cost)[0].hash(password)


# security.md §3: staff passwords 15 to 128 characters, patients' 8 to 128.
STAFF_PASSWORD_MIN = 15


PATIENT_PASSWORD_MIN = 8


PASSWORD_MAX = 128


COMMON_PASSWORD = (
    "Choose a password that is harder to guess: this one is in a list of common passwords"  # noqa: S105
)


# security.md §3 asks for a bundled list of at least 3,000: zxcvbn's most frequent 10,000.
COMMON_PASSWORDS_CHECKED = 10_000


def password_minimum(role: Role) -> int:
    """The fewest characters a new password for this role may have."""
    return PATIENT_PASSWORD_MIN if role == Role.patient else STAFF_PASSWORD_MIN


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    ranked = FREQUENCY_LISTS["passwords"][:COMMON_PASSWORDS_CHECKED]
    return frozenset(word.lower() for word in ranked)


def is_common_password(password: str) -> bool:
    """True when the password, ignoring case, is one of the most common passwords."""
    return password.lower() in _common_passwords()


def check_password_rule(password: str, *, minimum: int, field: str) -> None:
    """Raises InvalidInput on `field` unless `minimum` to 128 characters and not common.

    No composition rules, no truncation.
    """
    if not password:
        raise InvalidInput("Enter a password", field=field)
    if len(password) < minimum:
        raise InvalidInput(f"Password must be {minimum} characters or more", field=field)
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(f"Password must be {PASSWORD_MAX} characters or fewer", field=field)
    if is_common_password(password):
        raise InvalidInput(COMMON_PASSWORD, field=field)


def check_new_password(password: str, *, role: Role) -> None:
    """Raises InvalidInput (field `new_password`) unless the password meets the role's rule."""
    check_password_rule(password, minimum=password_minimum(role), field="new_password")


def verify_password(user: User, password: str, *, cost: tuple[int, int, int]) -> bool:
    """True when `password` is this user's current password."""
    try:
        return hasher_for(cost)[0].verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
