"""Random tokens and their SHA-256: only the hash of a cookie, link or API token is stored.

Sign-in sessions, browser keys of booking drafts and intakes, manage links, email links and
API bearer tokens all use these two functions; a stolen table holds no usable token.
"""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """A random URL-safe token with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The hex SHA-256 of a token, as stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()
