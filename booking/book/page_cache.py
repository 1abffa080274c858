"""Journey question pages rendered once per worker for each set of what they show (issue 22).

A question page's HTML depends on its template, the request's path and query, the
reference data, the page's context (choices, hints, the selected answer, the back link,
the day and time pickers' data) and four per-request values: the CSRF token, the hold
line, the values a person typed (name, date of birth, contact) and the hold button's
`next`, which is the request's own path. Everything but the token, the hold line and the
typed values goes into the key; those three are kept as slots and escaped into the kept
HTML on each request, as the templates' `{{ value }}` does. So no typed value is ever part
of a key nor kept in memory.

Only anonymous GETs without a flashed message or a form error are kept (a signed-in
header, a banner or an error summary quotes what is per person). A page is kept only
after its slotted rendering, filled with the request's values, came out byte for byte as
the plain rendering of the same request did; otherwise that key is marked never to keep.
The reference version is part of the key (read once per request from the database, so
every worker on every host sees a change at its next request), and the store is bounded:
when full it is emptied and refills.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import current_app, g, render_template, request, session
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from booking.reference_cache import current_version
from booking.security import signed_in

EXTENSION = "booking_step_pages"
MAX_PAGES = 512
# NUL never survives a form (booking/inputs.py refuses it), so no real value holds a slot.
SLOT = "\x00meridian-slot:{}\x00"
SLOT_SPLIT = re.compile("\x00meridian-slot:(\\w+)\x00")
HOLD = "hold_line"
CSRF = "csrf"
# Context that is not part of the key: the journey (the kept steps' templates never read
# it; the view puts what they show in the context), the hold form (its `next` is the
# request's path, in the key) and the day links (a function of the request's path).
NOT_KEYED = frozenset({"journey", "hold_form", "week_url"})
_NEVER = False
# The day and time pickers' pages kept by the facts they are drawn from (`kept_by_facts`).
BY_FACTS = "booking_step_pages_by_facts"


@dataclasses.dataclass(frozen=True)
class Facts:
    """What a page is drawn from, known before its context is built, and when it holds.

    `key` names everything the page shows besides the request's path, the reference
    version and the CSRF token (for the pickers: the journey's choices, the availability
    stamps, the back link); the page it names is right from `since` until `until`
    (exclusive) whatever else happens, as long as those stay the same.
    """

    key: Any
    since: datetime
    until: datetime


@dataclasses.dataclass(frozen=True)
class _KeptByFacts:
    parts: list[str]
    since: datetime
    until: datetime


class _NotKeyableError(Exception):
    pass


def _key(value: Any, typed: frozenset[str] = frozenset()) -> Any:
    """A hashable copy of `value` that keeps order and tells Markup from text."""
    kind = type(value)
    if kind is dict:
        return ("d", tuple((k, _key(v)) for k, v in value.items()))
    if kind is list or kind is tuple:
        return ("l", tuple(_key(v) for v in value))
    if kind is Markup:
        return ("m", str(value))
    if kind in (str, int, float, bool, date, datetime) or value is None:
        return (kind.__name__, value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = tuple((f.name, _key(getattr(value, f.name))) for f in dataclasses.fields(value))
        return ("c", kind.__qualname__, fields)
    if isinstance(value, FlaskForm):
        return ("f", kind.__qualname__, _form_key(value, typed))
    raise _NotKeyableError


def _form_key(form: FlaskForm, typed: frozenset[str]) -> Any:
    parts = []
    for field in form:
        if field.type == "CSRFTokenField":
            continue
        data = field.data
        if field.name in typed and data:
            data = "<typed>"  # a slot: what was typed is never part of a key
        choices = getattr(field, "choices", None)
        parts.append((field.name, _key(data), _key(list(choices) if choices else None)))
    return tuple(parts)


def _keepable(context: dict[str, Any]) -> bool:
    if request.method != "GET" or signed_in() or "_flashes" in session:
        return False
    form = context.get("form")
    return not (form is not None and form.errors)


def _facts_key(facts_key: Any) -> Any:
    return (request.full_path, current_version(), facts_key)


def kept_by_facts(facts_key: Any, now: datetime) -> str | None:
    """The page kept under `facts_key` (see `Facts`) when it still holds at `now`, else None.

    A hit builds no form and no context: the kept HTML (a plain rendering's, checked byte
    for byte when it was kept) gets this request's CSRF token, as the form would have.
    """
    if request.method != "GET" or signed_in() or "_flashes" in session:
        return None
    store: dict[Any, _KeptByFacts] = current_app.extensions.get(BY_FACTS, {})
    kept = store.get(_facts_key(facts_key))
    if kept is None or not kept.since <= now < kept.until:
        return None
    values = {CSRF: generate_csrf()} if CSRF in kept.parts[1::2] else {}
    return _fill(kept.parts, values)


def _keep_by_facts(facts: Facts, parts: list[str]) -> None:
    if any(name != CSRF for name in parts[1::2]) or not facts.since < facts.until:
        return  # only the token may be a slot: nothing else is known before the context
    store: dict[Any, _KeptByFacts] = current_app.extensions.setdefault(BY_FACTS, {})
    if len(store) >= MAX_PAGES:
        store.clear()
    store[_facts_key(facts.key)] = _KeptByFacts(parts, facts.since, facts.until)


def _fill(parts: list[str], values: dict[str, str]) -> str:
    out = []
    for i, part in enumerate(parts):
        out.append(values[part] if i % 2 else part)
    return "".join(out)


def render_question(
    template: str,
    typed: tuple[str, ...] = (),
    *,
    hold_form: Callable[[], Any],
    per_request: tuple[str, ...] = (),
    facts: Facts | None = None,
    **context: Any,
) -> str:
    """`render_template(template, hold_form=hold_form(), **context)`, kept when it may be.

    `typed` names the form's fields whose values a person typed: slots, never keys.
    `per_request` names context values (a text, or a list of texts) that are this
    request's own, such as what check answers repeats back: slots too (a list's length is
    in the key), printed by the template as they are. The hold form (its `next` is the
    request's path, in the key) is built only to render. `facts`: the page is also kept
    under what it is drawn from, for `kept_by_facts` to find before building its context.
    """
    if not _keepable(context):
        return render_template(template, hold_form=hold_form(), **context)
    form = context.get("form")
    typed_set = frozenset(typed)
    try:
        keyed = tuple(
            (name, _key(value, typed_set))
            for name, value in sorted(context.items())
            if name not in NOT_KEYED and name != HOLD and name not in per_request
        )
        keyed += tuple((name, _slot_key(context[name])) for name in per_request)
    except _NotKeyableError:
        return render_template(template, hold_form=hold_form(), **context)
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    hold = context.get(HOLD) is not None
    key = (template, request.full_path, current_version(), hold, token is not None, keyed)
    values = {CSRF: token or ""}
    if context.get(HOLD):
        values[HOLD] = str(escape(context[HOLD]))
    slotted = [n for n in typed if form is not None and form[n].data]
    for name in slotted:
        values[name] = str(escape(form[name].data))  # type: ignore[index]
    for slot, value in _own_values(context, per_request).items():
        values[slot] = str(escape(value))
    store: dict[Any, Any] = current_app.extensions.setdefault(EXTENSION, {})
    parts = store.get(key)
    if parts:
        if facts is not None:
            _keep_by_facts(facts, parts)
        return _fill(parts, values)
    context["hold_form"] = hold_form()
    html = render_template(template, **context)
    if parts is None:
        parts = _slotted_parts(template, context, slotted, token, per_request)
        kept = parts if parts is not None and _fill(parts, values) == html else _NEVER
        if len(store) >= MAX_PAGES:
            store.clear()
        store[key] = kept
        if parts is not None and kept is parts and facts is not None:
            _keep_by_facts(facts, parts)
    return html


def _slot_key(value: Any) -> Any:
    """What a per-request value puts in the key: that it is one, or how many it holds."""
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, str) for v in value):
            raise _NotKeyableError
        return ("own", len(value))
    if not isinstance(value, str):
        raise _NotKeyableError
    return ("own",)


def _own_values(context: dict[str, Any], per_request: tuple[str, ...]) -> dict[str, str]:
    """Each per-request text by its slot: `name`, or `name__0`, `name__1`… for a list's."""
    found = {}
    for name in per_request:
        value = context[name]
        if isinstance(value, (list, tuple)):
            found.update({f"{name}__{i}": text for i, text in enumerate(value)})
        else:
            found[name] = value
    return found


def _slotted(value: Any, name: str) -> Any:
    """A per-request value's stand-in for the slotted rendering."""
    if isinstance(value, (list, tuple)):
        return [SLOT.format(f"{name}__{i}") for i in range(len(value))]
    return SLOT.format(name)


def _slotted_parts(
    template: str,
    context: dict[str, Any],
    slotted: list[str],
    token: str | None,
    per_request: tuple[str, ...] = (),
) -> list[str] | None:
    """The page rendered with slots for the per-request values, split at them."""
    form = context["form"] if slotted else None
    typed = {name: form[name].data for name in slotted} if form is not None else {}
    try:
        for name in typed:
            form[name].data = SLOT.format(name)  # type: ignore[index]
        hold = {HOLD: SLOT.format(HOLD)} if context.get(HOLD) else {}
        own = {name: _slotted(context[name], name) for name in per_request}
        html = render_template(template, **{**context, **hold, **own})
    finally:
        for name, value in typed.items():
            form[name].data = value  # type: ignore[index]
    if token:
        html = html.replace(token, SLOT.format(CSRF))
    # A page without a form (the time step on a day whose times have all gone) shows no
    # token: kept as it is (a token is letters, digits, "-", "_" and ".", which neither
    # escaping nor URL quoting changes, so it cannot be in the page in another form).
    return SLOT_SPLIT.split(html)
