"""Email bodies: one plain-text template per message, `templates/email/<name>.txt`.

Services decide who gets which message and pass its values (names, local times, links);
the template writes the words. This module has its own Jinja environment (no Flask, no
request, no HTML escaping: the bodies are plain text), so every layer may call it.

Words are marked for translation: `{{ _("Hello %(name)s,", name=given_name) }}` in the
templates and `gettext(...)` for subjects in services. The catalogue of EMAIL_LANGUAGE in
booking/translations/ (`make translations`) supplies them; without a compiled catalogue the
English source text is used as it stands.
"""

from __future__ import annotations

import gettext as gettext_module
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, TemplateNotFound, meta

from booking.domain.formatting import format_date, format_time

EMAIL_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
EMAIL_LANGUAGE = "en"  # the catalogue email words come from (another language: add its .po)


@cache
def _catalogue() -> gettext_module.NullTranslations:
    return gettext_module.translation(
        "messages", TRANSLATIONS, languages=[EMAIL_LANGUAGE], fallback=True
    )


def gettext(message: str) -> str:
    """`message` in the email language (subjects; bodies translate in their templates)."""
    return _catalogue().gettext(message)


def _fail(message: str) -> NoReturn:
    raise ValueError(message)


@cache
def _environment() -> Environment:
    # Plain-text bodies: escaping HTML would corrupt them (no email is sent as HTML).
    env = Environment(
        loader=FileSystemLoader(EMAIL_TEMPLATES),
        extensions=["jinja2.ext.i18n"],
        autoescape=False,  # noqa: S701
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["format_date"] = format_date
    env.filters["format_time"] = format_time
    env.globals["fail"] = _fail
    env.install_gettext_translations(_catalogue(), newstyle=True)  # type: ignore[attr-defined]
    return env


@cache
def _template(name: str) -> tuple[Template, frozenset[str]]:
    """The compiled template of message `name` and the values it reads."""
    env = _environment()
    try:
        source, _path, _uptodate = env.loader.get_source(env, f"{name}.txt")  # type: ignore[union-attr]
    except TemplateNotFound:
        raise KeyError(name) from None
    names = meta.find_undeclared_variables(env.parse(source)) - set(env.globals)
    return env.get_template(f"{name}.txt"), frozenset(names)


def render_email(name: str, **context: Any) -> str:
    """The plain-text body of the message `name` with `context` filled in.

    Raises KeyError for an unknown message and TypeError for a missing or unknown value.
    The file's final newline is not part of the body (Jinja drops it).
    """
    template, names = _template(name)
    missing, unknown = names - context.keys(), context.keys() - names
    if missing or unknown:
        raise TypeError(
            f"email {name!r}: missing values {sorted(missing)}, unknown values {sorted(unknown)}"
        )
    return template.render(**context)
