"""A session type: duration, buffers, price, who may book it and who offers it."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from booking.forms import FlaskForm
from booking.forms.fields import (
    YES_NO,
    PriceField,
    WholeNumberField,
    checkboxes,
    choices,
    is_yes,
    name_field,
    radios,
    text_of,
    validated,
)
from booking.services.clinic.session_types import MODALITIES, SessionTypeValues

MODALITY_LABELS = {
    "needling": "Needling",
    "electro_acupuncture": "Electro-acupuncture",
    "cupping": "Cupping",
    "moxibustion": "Moxibustion",
    "gua_sha": "Gua sha",
}


class SessionTypeForm(FlaskForm):
    name = name_field()
    description = TextAreaField(
        "Description (optional)",
        widget=GovTextArea(),
        description="One or two sentences for patients choosing what to book.",
        validators=[Length(max=500, message="Description must be 500 characters or fewer")],
    )
    duration_minutes = WholeNumberField(
        "Duration",
        limit="duration_minutes",
        example=30,
        blank="Enter the duration in minutes",
        description="From 20 to 40 minutes.",
    )
    buffer_before_minutes = WholeNumberField(
        "Time before the session",
        limit="buffer_before_minutes",
        example=0,
        blank="Enter the time before the session in minutes, or 0",
        description="Kept free before each session, for example to prepare the room. "
        "From 0 to 30 minutes.",
    )
    buffer_after_minutes = WholeNumberField(
        "Time after the session",
        limit="buffer_after_minutes",
        example=5,
        blank="Enter the time after the session in minutes, or 0",
        description="Kept free after each session, for example for notes. From 0 to 30 minutes.",
    )
    price = PriceField(
        "Price (optional)",
        description="In pounds. Leave empty to show no price to patients.",
    )
    audience = radios(
        "Who can book it online?",
        [
            ("new", "New patients only"),
            ("follow_up", "Patients who have been before"),
            ("any", "Anyone"),
        ],
        "Select who can book it online",
    )
    room_kind = radios(
        "What room does it need?",
        [
            ("treatment", "A treatment room"),
            ("community", "A place in a community room"),
            ("", "No room"),
        ],
        "Select the room it needs",
        empty_choice=True,
    )
    modalities = checkboxes("Treatments used (optional)", "Select treatments from the list")
    practitioner_ids = checkboxes("Who offers it? (optional)", "Select practitioners from the list")
    sort_order = WholeNumberField(
        "Position in lists",
        limit="sort_order",
        example=1,
        blank="Enter the position in lists",
        description="Session types with lower numbers are listed first.",
    )
    is_active = radios("Can it be booked?", YES_NO, "Select yes if the session type can be booked")
    submit = SubmitField("Save session type", widget=GovSubmitInput())

    def __init__(self, *args: Any, practitioners: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.modalities.choices = choices([(m, MODALITY_LABELS[m]) for m in MODALITIES])
        self.practitioner_ids.choices = choices([(str(pid), name) for pid, name in practitioners])

    def values(self) -> SessionTypeValues:
        return SessionTypeValues(
            name=text_of(self.name),
            description=text_of(self.description),
            duration_minutes=validated(self.duration_minutes.data),
            buffer_before_minutes=validated(self.buffer_before_minutes.data),
            buffer_after_minutes=validated(self.buffer_after_minutes.data),
            price_pence=self.price.data,
            audience=text_of(self.audience),
            room_kind=self.room_kind.data or None,
            modalities=tuple(self.modalities.data or ()),
            practitioner_ids=tuple(int(pid) for pid in self.practitioner_ids.data or ()),
            sort_order=validated(self.sort_order.data),
            is_active=is_yes(self.is_active),
        )
