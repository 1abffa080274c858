"""GOV.UK radios and buttons rendered once a process for each set of parameters (issue 22).

govuk-frontend-wtf renders a radios or button widget through `render_template` and the
GOV.UK macros on every call: about a quarter of a journey question's CPU. What comes out
depends only on the widget's template and the parameters the widget builds (the template
imports the macros without context, so no global, request or session value reaches it),
so the HTML is kept per app, keyed by the template and those parameters in order, and the
same parameters give the same HTML without rendering again.

Radios and buttons are kept whole: their parameters are choices, labels and flags. A text
input's value is what a person typed, so it is never part of the key nor kept: the input
is kept with a placeholder where the value goes, and the value is escaped into that place
on each call, as the template's `{{ params.value }}` would. An input with an error message,
or whose placeholder does not come out exactly once, renders every time, as does a
parameter of another type (a lazy string, an object). The store is bounded: when full it
is emptied and refills.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from govuk_frontend_wtf.gov_form_base import GovFormBase
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextInput
from markupsafe import Markup, escape

CACHED_WIDGETS = (GovRadioInput, GovSubmitInput)
TEXT_WIDGETS = (GovTextInput,)
# Stands in for a typed value; NUL never survives a form (booking/inputs.py refuses it).
VALUE_SLOT = "\x00meridian-value\x00"
MAX_ENTRIES = 2048
EXTENSION = "booking_widget_html"
_render = GovFormBase.render


class _NotKeyableError(Exception):
    pass


def _key(value: Any) -> Any:
    """A hashable copy of `value` that keeps order and tells Markup from text."""
    kind = type(value)
    if kind is dict:
        return ("d", tuple((k, _key(v)) for k, v in value.items()))
    if kind is list or kind is tuple:
        return ("l", tuple(_key(v) for v in value))
    if kind is Markup:
        return ("m", str(value))
    if kind in (str, int, float, bool) or value is None:
        return (kind.__name__, value)
    raise _NotKeyableError


def _cached_render(self: GovFormBase, params: dict[str, Any]) -> Markup:
    try:
        key = (self.template, _key(params))
    except _NotKeyableError:
        return _render(self, params)
    store: dict[Any, Markup] = current_app.extensions.setdefault(EXTENSION, {})
    html = store.get(key)
    if html is None:
        html = _render(self, params)
        if len(store) >= MAX_ENTRIES:
            store.clear()
        store[key] = html
    return html


def _cached_text_render(self: GovFormBase, params: dict[str, Any]) -> Markup:
    value = params.get("value")
    if params.get("errorMessage") or (value and not isinstance(value, str)):
        return _render(self, params)  # an error's text may quote what was typed
    if not value:
        return _cached_render(self, params)
    try:
        key = ("slot", self.template, _key({**params, "value": VALUE_SLOT}))
    except _NotKeyableError:
        return _render(self, params)
    store: dict[Any, Any] = current_app.extensions.setdefault(EXTENSION, {})
    parts = store.get(key)
    if parts is None:
        parts = _render(self, {**params, "value": VALUE_SLOT}).split(VALUE_SLOT)
        if len(store) >= MAX_ENTRIES:
            store.clear()
        store[key] = parts
    if len(parts) != 2:
        return _render(self, params)
    return parts[0] + escape(value) + parts[1]


def install() -> None:
    """Give the radios, button and text input widgets the kept render (idempotent)."""
    for widget in CACHED_WIDGETS:
        widget.render = _cached_render
    for text_widget in TEXT_WIDGETS:
        text_widget.render = _cached_text_render
