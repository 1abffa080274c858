"""GOV.UK radios and buttons rendered once a process for each set of parameters (issue 22).

govuk-frontend-wtf renders a radios or button widget through `render_template` and the
GOV.UK macros on every call: about a quarter of a journey question's CPU. What comes out
depends only on the widget's template and the parameters the widget builds (the template
imports the macros without context, so no global, request or session value reaches it),
so the HTML is kept per app, keyed by the template and those parameters in order, and the
same parameters give the same HTML without rendering again.

Only radios and buttons are kept: their parameters are choices, labels and flags, never
text a person typed (text inputs, text areas and date inputs render every time). A
parameter of another type (a lazy string, an object) renders every time too. The store
is bounded: when full it is emptied and refills.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from govuk_frontend_wtf.gov_form_base import GovFormBase
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput
from markupsafe import Markup

CACHED_WIDGETS = (GovRadioInput, GovSubmitInput)
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


def install() -> None:
    """Give the radios and button widgets the kept render (idempotent)."""
    for widget in CACHED_WIDGETS:
        widget.render = _cached_render
