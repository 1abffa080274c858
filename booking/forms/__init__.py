"""App-wide form pieces: the app's FlaskForm, validators without `required`, EmptyForm.

Shared fields (numbers, prices, clock times, GOV.UK date inputs, radios) are in `fields`.
"""

from __future__ import annotations

from typing import Any

import flask_wtf
from wtforms import Field
from wtforms.validators import StopValidation

from booking.inputs import CONTROL_CHARACTERS, is_storable


class FlaskForm(flask_wtf.FlaskForm):
    """Flask-WTF's form, refusing text no database can store before a field's validators run.

    Every form of the app derives from this one (tests/web/test_bad_input.py walks them), so
    a NUL byte in any field comes back as that field's error, never as a database error. The
    other fields are validated as usual.
    """

    def validate(self, extra_validators: Any = None) -> bool:
        for field in self:
            if not all(is_storable(v) for v in field.raw_data or () if isinstance(v, str)):
                # First in the chain, so neither its validators nor validate_<name> see it.
                field.validators = [_Unstorable(field), *field.validators]
        return super().validate(extra_validators)


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
