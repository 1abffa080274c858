"""Meridian: patient session booking for acupuncture and TCM clinics."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix


def create_app(
    test_config: Mapping[str, Any] | None = None,
    *,
    instance_path: str | os.PathLike[str] | None = None,
) -> Flask:
    """Build the app: layered config, extensions, blueprints, errors, CLI, logging.

    The instance folder (config.py, the SQLite file) is `instance_path`, else the
    `BOOKING_INSTANCE_PATH` environment variable, else the checkout's `instance/`: tests give
    every app their own so nothing a developer ran before changes a test's result.
    """
    from booking.flask_app import App

    chosen = instance_path or os.environ.get("BOOKING_INSTANCE_PATH") or None
    app = App(
        __name__,
        instance_path=str(Path(chosen).resolve()) if chosen else None,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    from booking.templating import Environment

    app.jinja_environment = Environment  # before anything creates app.jinja_env
    _load_config(app, test_config)

    from booking.extensions import availability_cache, babel, csrf, db, login_manager, migrate

    db.init_app(app)
    availability_cache.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(
        app,
        default_locale="en",
        default_translation_directories=str(Path(app.root_path) / "translations"),
    )
    WTFormsHelpers(app)
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(Path(app.root_path).parent / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )

    from booking import cli, db_hooks, errors, inputs, log, reference_cache, security, templating
    from booking.blueprints import register_blueprints

    reference_cache.install()
    with app.app_context():
        db_hooks.install(db.engine, app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        problems = db_hooks.pragma_problems(db.engine)
    if problems:
        raise SystemExit(f"Meridian: SQLite durability settings refused: {'; '.join(problems)}.")
    log.register(app)
    from booking.api.ratelimit import init_limiter

    # Before the other request hooks that may open a database transaction, so a limit check
    # never waits behind the request's own SQLite write lock.
    init_limiter(app)
    security.register(app)
    templating.register(app)
    inputs.register(app)  # its converters must exist before the blueprints' rules
    register_blueprints(app)
    errors.register(app)
    cli.register(app)
    if app.config["PROXY_HOPS"]:
        # Only the client address: gunicorn already takes X-Forwarded-Proto from
        # FORWARDED_ALLOW_IPS, and the Host header is checked against TRUSTED_HOSTS.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_HOPS"])  # type: ignore[method-assign]
    return app


def _load_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    from booking.config import Defaults, check_config, finish_config

    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("BOOKING")
    if test_config is not None:
        app.config.update(test_config)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        # A relative SQLite path lives in the instance folder.
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        name = uri.removeprefix("sqlite:///")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / name}"
    finish_config(app.config)
    check_config(app.config)
