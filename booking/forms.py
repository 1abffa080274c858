"""Shared form pieces: validators that do not add the `required` attribute, EmptyForm."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import StopValidation


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
