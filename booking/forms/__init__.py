"""App-wide form pieces: the app's FlaskForm, validators without `required`, EmptyForm.

Shared fields (numbers, prices, clock times, GOV.UK date inputs, radios) are in `fields`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import flask_wtf
from babel import support
from flask import current_app, has_request_context
from flask_babel import get_locale
from wtforms import Field
from wtforms.i18n import messages_path
from wtforms.validators import StopValidation

from booking.inputs import CONTROL_CHARACTERS, is_storable


class FlaskForm(flask_wtf.FlaskForm):
    """Flask-WTF's form, refusing text no database can store before a field's validators run.

    Every form of the app derives from this one (tests/web/test_bad_input.py walks them), so
    a NUL byte in any field comes back as that field's error, never as a database error. The
    other fields are validated as usual.
    """

    class Meta(flask_wtf.FlaskForm.Meta):
        def get_translations(self, form: Any) -> Any:
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _WTFORMS_TRANSLATIONS

    def validate(self, extra_validators: Any = None) -> bool:
        for field in self:
            if not all(is_storable(v) for v in field.raw_data or () if isinstance(v, str)):
                # First in the chain, so neither its validators nor validate_<name> see it.
                field.validators = [_Unstorable(field), *field.validators]
        return super().validate(extra_validators)


@lru_cache(maxsize=16)
def _wtforms_catalogue(locale: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _Translations:
    """WTForms' own messages in the request's locale, each catalogue read once a process.

    Flask-WTF's `i18n.translations` reads and parses WTForms' .mo file on every request
    that builds a form: about 8% of a journey step's CPU (issue 22). Same lookups, cached.
    """

    def _catalogue(self) -> support.NullTranslations | None:
        if not has_request_context() or "babel" not in current_app.extensions:
            return None
        return _wtforms_catalogue(str(get_locale()))

    def gettext(self, string: str) -> str:
        catalogue = self._catalogue()
        return string if catalogue is None else catalogue.ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        catalogue = self._catalogue()
        if catalogue is None:
            return singular if n == 1 else plural
        return catalogue.ungettext(singular, plural, n)


_WTFORMS_TRANSLATIONS = _Translations()


class _Unstorable:
    def __init__(self, field: Field) -> None:
        name = str(field.label.text).removesuffix(" (optional)").rstrip("?")
        self.message = f"{name} {CONTROL_CHARACTERS}"

    def __call__(self, form: FlaskForm, field: Field) -> None:
        field.errors[:] = []
        raise StopValidation(self.message)


class Present:
    """Like InputRequired, but leaves no `required` attribute (validation is server-side)."""

    field_flags: dict[str, Any] = {}

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: Field) -> None:
        data = field.data
        if data is None or (isinstance(data, str) and not data.strip()) or data == []:
            field.errors[:] = []
            raise StopValidation(self.message)


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST buttons."""
