"""A room at a location: its kind, places and position in lists."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField

from booking.forms import FlaskForm
from booking.forms.fields import (
    YES_NO,
    WholeNumberField,
    is_yes,
    name_field,
    radios,
    text_of,
    validated,
)
from booking.services.clinic.locations import RoomValues


class RoomForm(FlaskForm):
    name = name_field()
    kind = radios(
        "What kind of room is it?",
        [("treatment", "Treatment room"), ("community", "Community room")],
        "Select the kind of room",
    )
    capacity = WholeNumberField(
        "Places",
        limit="capacity",
        example=1,
        blank="Enter the number of places",
        description="How many patients can be treated in the room at the same time, from 1 to 12.",
    )
    sort_order = WholeNumberField(
        "Position in lists",
        limit="sort_order",
        example=1,
        blank="Enter the position in lists",
        description="Rooms with lower numbers are listed, and filled, first.",
    )
    is_active = radios("Is the room in use?", YES_NO, "Select yes if the room is in use")
    submit = SubmitField("Save room", widget=GovSubmitInput())

    def values(self) -> RoomValues:
        return RoomValues(
            name=text_of(self.name),
            kind=text_of(self.kind),
            capacity=validated(self.capacity.data),
            sort_order=validated(self.sort_order.data),
            is_active=is_yes(self.is_active),
        )
