"""A second, empty database of the engine under test: the target of a restore."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import base_config


@contextmanager
def empty_app(like_uri: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on a new empty database of the same engine as `like_uri`; dropped afterwards."""
    from booking import create_app
    from booking.extensions import db

    if like_uri.startswith("sqlite"):
        yield create_app(
            base_config(f"sqlite:///{tmp_path / 'restored.sqlite'}"),
            instance_path=tmp_path / "restored",
        )
        return
    url = make_url(like_uri)
    name = f"restore_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    target = create_app(
        base_config(url.set(database=name).render_as_string(hide_password=False)),
        instance_path=tmp_path / "restored",
    )
    try:
        yield target
    finally:
        with target.app_context():
            db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
