"""Forms for intake pages, built from a questionnaire page's definition (data, not code)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import Field, RadioField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from booking.domain.intake.rules import SCALE_VALUES
from booking.forms import FlaskForm, Present


class Checkboxes(SelectMultipleField):
    """Checkboxes whose unknown values get the question's own message."""

    def __init__(self, *args: Any, message: str = "", exclusive: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.message = message
        self.exclusive = exclusive

    def pre_validate(self, form: FlaskForm) -> None:
        allowed = {choice.value for choice in self.choices}
        if any(value not in allowed for value in self.data or []):
            raise ValidationError(self.message)
        if self.exclusive in (self.data or []) and len(self.data) > 1:
            label = next(c.label for c in self.choices if c.value == self.exclusive)
            raise ValidationError(f"Select ‘{label}’ on its own, or clear it")


def _length(question: Mapping[str, Any]) -> Length:
    limit = question.get("max_length", 1000)
    name = question.get("short") or question["label"].removesuffix(" (optional)").rstrip("?")
    return Length(max=limit, message=f"{name} must be {limit} characters or fewer")


def make_field(question: Mapping[str, Any]) -> Field:
    """A WTForms field for one question; no `required` attribute (validated on the server)."""
    kind, label = question["type"], question["label"]
    message = question.get("error", "")
    presence = Present(message) if question.get("required") else Optional()
    if kind in ("text", "textarea"):
        widget = GovTextArea() if kind == "textarea" else GovTextInput()
        field_cls = TextAreaField if kind == "textarea" else StringField
        return field_cls(label, widget=widget, validators=[presence, _length(question)])
    if kind == "checkboxes":
        return Checkboxes(
            label,
            choices=[SelectChoice(value, label) for value, label in question["options"]],
            widget=GovCheckboxesInput(),
            validators=[presence],
            message=message,
            exclusive=question.get("exclusive"),
        )
    options = [(v, v) for v in SCALE_VALUES] if kind == "scale" else question["options"]
    choices = [SelectChoice(value, label) for value, label in options]
    return RadioField(
        label,
        choices=choices,
        widget=GovRadioInput(),
        validators=[presence],
        invalid_choice_message=message,
    )


def page_form(page: Mapping[str, Any], **kwargs: Any) -> FlaskForm:
    """A form for one intake page: a field per question, Continue and Save for later."""

    class PageForm(FlaskForm):
        submit = SubmitField("Continue", widget=GovSubmitInput())
        save_later = SubmitField("Save and come back later", widget=GovSubmitInput())

    for question in page["questions"]:
        setattr(PageForm, question["key"], make_field(question))
    return PageForm(**kwargs)


class StartForm(FlaskForm):
    submit = SubmitField("Start now", widget=GovSubmitInput())


class SubmitAnswersForm(FlaskForm):
    submit = SubmitField("Send your answers", widget=GovSubmitInput())


def field_params(question: Mapping[str, Any], *, single: bool) -> dict[str, Any]:
    """govuk-frontend params for a question: on a one-question page its label is the <h1>."""
    size = "l" if single else "m"
    hint = {"text": question["hint"]} if question.get("hint") else None
    if question["type"] in ("radios", "scale", "checkboxes"):
        params: dict[str, Any] = {
            "fieldset": {
                "legend": {
                    "text": question["label"],
                    "isPageHeading": single,
                    "classes": f"govuk-fieldset__legend--{size}",
                }
            },
            "hint": hint,
        }
        if question["type"] == "scale" or question.get("inline"):
            params["classes"] = "govuk-radios--inline"
        exclusive = question.get("exclusive")
        if exclusive:
            values = [value for value, _label in question["options"]]
            items: list[dict[str, Any]] = [{} for _ in values]
            items[values.index(exclusive)] = {"behaviour": "exclusive"}
            params["items"] = items
        return params
    params = {
        "label": {
            "text": question["label"],
            "isPageHeading": single,
            "classes": f"govuk-label--{size}",
        },
        "hint": hint,
        "spellcheck": question["type"] == "textarea",
    }
    if question.get("autocomplete"):
        params["autocomplete"] = question["autocomplete"]
    if question.get("input_type"):
        params["type"] = question["input_type"]
    if question["type"] == "textarea":
        params["rows"] = 4
    return params


class ReviewForm(FlaskForm):
    comment = TextAreaField(
        "Comment",
        widget=GovTextArea(),
        validators=[
            Present("Enter a comment about your review"),
            Length(max=1000, message="Comment must be 1000 characters or fewer"),
        ],
    )
    submit = SubmitField("Mark as reviewed", widget=GovSubmitInput())


class PaperConsentForm(FlaskForm):
    modality = RadioField(
        "Which treatment did they agree to?",
        choices=[],
        widget=GovRadioInput(),
        validators=[Present("Select the treatment they agreed to")],
        invalid_choice_message="Select the treatment they agreed to",
    )
    method = RadioField(
        "How did they agree?",
        choices=[SelectChoice("paper", "On a paper form"), SelectChoice("verbal", "Verbally")],
        widget=GovRadioInput(),
        validators=[Present("Select how they agreed")],
        invalid_choice_message="Select how they agreed",
    )
    submit = SubmitField("Record consent", widget=GovSubmitInput())
