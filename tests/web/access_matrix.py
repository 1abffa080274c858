"""Expected status per (endpoint, method) for each role: every route must be listed.

Roles: anonymous, patient, practitioner, receptionist, admin. For API endpoints the role is
the owner of the bearer token sent (a patient's token is refused like none at all).
Each feature keeps its entries in its own module under tests/web/access/; this module merges
them, refusing an endpoint listed twice.
"""

from __future__ import annotations

import importlib
import pkgutil

import tests.web.access as access_package

URL_ARGS: dict[str, dict[str, object]] = {}
POST_DATA: dict[str, dict[str, str]] = {}
MATRIX: dict[tuple[str, str], dict[str, int]] = {}

for _info in pkgutil.iter_modules(access_package.__path__):
    if _info.name == "roles":
        continue
    _module = importlib.import_module(f"tests.web.access.{_info.name}")
    _dupes = set(MATRIX) & set(_module.MATRIX)
    assert not _dupes, f"endpoints listed twice: {_dupes}"
    MATRIX.update(_module.MATRIX)
    URL_ARGS.update(getattr(_module, "URL_ARGS", {}))
    POST_DATA.update(getattr(_module, "POST_DATA", {}))
