"""GOV.UK radios and buttons kept per set of parameters (booking/forms/widgets.py, issue 22):
the kept HTML is what rendering gives, and any change of parameter renders again."""

from __future__ import annotations

from typing import Any

from flask import Flask, template_rendered
from govuk_frontend_wtf.gov_form_base import GovFormBase
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from booking.book.forms import SessionTypeForm
from booking.forms import widgets


def _fresh(form: SessionTypeForm, **params: Any) -> str:
    """What govuk-frontend-wtf renders, without the kept copy."""
    field = form.session_type
    widget = field.widget
    kwargs: dict[str, Any] = {"params": params} if params else {}
    kwargs.setdefault("id", field.id)
    kwargs["items"] = [
        {"text": s.label.text, "value": s._value(), **({"checked": True} if s.checked else {})}
        for s in field
    ]
    return str(GovFormBase.render(widget, widget.map_gov_params(field, **kwargs)))


def _form(choice: str | None = None, label: str | Markup = "Acupuncture") -> SessionTypeForm:
    data = MultiDict({"session_type": choice}) if choice else None
    form = SessionTypeForm(formdata=data, meta={"csrf": False})
    form.session_type.choices = [("1", label), ("2", "Cupping")]
    if choice:
        form.validate()
    return form


def test_kept_radios_match_a_fresh_render_and_skip_rendering(sqlite_app: Flask) -> None:
    rendered: list[str] = []

    def seen(_sender: Flask, template: Any, **_extra: Any) -> None:
        rendered.append(template.name)

    with sqlite_app.test_request_context("/book/type"):
        sqlite_app.extensions.pop(widgets.EXTENSION, None)
        first = str(_form().session_type())
        template_rendered.connect(seen, sqlite_app)
        try:
            second = str(_form().session_type())
        finally:
            template_rendered.disconnect(seen, sqlite_app)
        assert first == second == _fresh(_form())
        assert rendered == []  # the second came from the kept copy
        assert 'value="1"' in first
        assert "checked" not in first


def test_each_change_of_parameter_renders_its_own_html(sqlite_app: Flask) -> None:
    with sqlite_app.test_request_context("/book/type", method="POST"):
        plain = str(_form().session_type())
        checked = str(_form("2").session_type())
        assert checked == _fresh(_form("2"))
        assert checked != plain
        assert 'value="2" checked' in checked
        wrong = _form("9")  # not a choice: the error message shows
        assert "govuk-error-message" in str(wrong.session_type())
        assert str(wrong.session_type()) == _fresh(_form("9"))
        # Text is escaped, Markup is not: the same characters are two different keys.
        as_text = str(_form(label="<b>A</b>").session_type())
        as_markup = str(_form(label=Markup("<b>A</b>")).session_type())
        assert "&lt;b&gt;A&lt;/b&gt;" in as_text
        assert "<b>A</b>" not in as_text
        assert "<b>A</b>" in as_markup
        # Params given in the template are part of the key too.
        legend = str(_form().session_type(params={"fieldset": {"legend": {"text": "Pick"}}}))
        assert "Pick" in legend
        assert legend != plain


def test_the_store_is_bounded(sqlite_app: Flask, monkeypatch: Any) -> None:
    monkeypatch.setattr(widgets, "MAX_ENTRIES", 3)
    with sqlite_app.test_request_context("/book/type"):
        sqlite_app.extensions.pop(widgets.EXTENSION, None)
        for n in range(10):
            _form(label=f"Type {n}").session_type()
        assert len(sqlite_app.extensions[widgets.EXTENSION]) <= 3


def test_a_typed_value_is_escaped_into_the_kept_input_and_never_kept(sqlite_app: Flask) -> None:
    from booking.book.forms import NameForm

    def fresh(field: Any) -> str:
        widget = field.widget
        params = widget.map_gov_params(field, id=field.id, type="text", value=field._value())
        return str(GovFormBase.render(widget, params))

    with sqlite_app.test_request_context("/book/name", method="POST"):
        sqlite_app.extensions.pop(widgets.EXTENSION, None)
        for typed in ("Ada", 'O"Brien <b>&amp;', ""):
            form = NameForm(
                formdata=MultiDict({"given_name": typed, "family_name": "Lovelace"}),
                meta={"csrf": False},
            )
            assert str(form.given_name()) == fresh(form.given_name)
        kept = repr(sqlite_app.extensions[widgets.EXTENSION])
        assert "Ada" not in kept
        assert "Brien" not in kept
        assert "Lovelace" not in kept
        assert "&#34;Brien &lt;b&gt;&amp;amp;" in str(form.given_name(value='"Brien <b>&amp;'))
