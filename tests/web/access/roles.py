"""Role names and helpers for building access-matrix entries."""

from __future__ import annotations

A, P, PR, R, AD = "anonymous", "patient", "practitioner", "receptionist", "admin"


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys((A, P, PR, R, AD), status)


def only(role: str, ok: int = 200) -> dict[str, int]:
    """A role-guarded page: anonymous goes to sign-in, other roles get 403."""
    expected = {A: 302, P: 403, PR: 403, R: 403, AD: 403}
    expected[role] = ok
    return expected


def hidden_from_others(role: str, ok: int = 200) -> dict[str, int]:
    """A record other roles may not know of: anonymous goes to sign-in, other roles get 404."""
    expected = {A: 302, P: 404, PR: 404, R: 404, AD: 404}
    expected[role] = ok
    return expected


def api_staff(ok: int = 200) -> dict[str, int]:
    return {A: 401, P: 401, PR: ok, R: ok, AD: ok}
