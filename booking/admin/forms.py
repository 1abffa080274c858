"""Clinic set-up forms: booking policies, locations, rooms and session types.

Numbers are typed into text boxes (GOV.UK: no `type=number`); spaces and commas are ignored.
Ranges and messages come from `booking.services.clinic.checks.LIMITS`, so a form and the service
that backs it up say the same thing.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovPasswordInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    Field,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Length, StopValidation

from booking.book.forms import MONTHS
from booking.domain.errors import InvalidInput
from booking.forms import FlaskForm, Present
from booking.models.clinic import SLOT_STEPS
from booking.services.accounts.passwords import PASSWORD_MAX
from booking.services.clinic.checks import LIMITS, MAX_PRICE_PENCE, NAME_MAX
from booking.services.clinic.locations import LocationValues, RoomValues
from booking.services.clinic.policies import PolicyValues
from booking.services.clinic.practitioners import (
    BIO_MAX,
    EMAIL_MAX,
    PASSWORD_MIN,
    NewPractitionerValues,
    PractitionerValues,
    check_account_email,
    check_password,
)
from booking.services.clinic.session_types import MODALITIES, SessionTypeValues
from booking.services.rota.exceptions import REASON_MAX, ExceptionValues
from booking.services.rota.hours import WEEKDAYS, HoursValues

YES_NO = [("yes", "Yes"), ("no", "No")]
STEP_CHOICES = [(str(step), f"Every {step} minutes") for step in SLOT_STEPS]
MODALITY_LABELS = {
    "needling": "Needling",
    "electro_acupuncture": "Electro-acupuncture",
    "cupping": "Cupping",
    "moxibustion": "Moxibustion",
    "gua_sha": "Gua sha",
}
_NUMBER = re.compile(r"\d{1,6}")
_PRICE = re.compile(r"£?(\d{1,6})(?:\.(\d{1,2}))?")


class _DropEmptyHint:
    """govuk-frontend-wtf gives radios and checkboxes a hint even without a description,
    which renders an empty hint that `aria-describedby` then points at."""

    def map_gov_params(self, field: Field, **kwargs: Any) -> dict[str, Any]:
        params = super().map_gov_params(field, **kwargs)  # type: ignore[misc]
        hint = params.get("hint") or {}
        if not hint.get("text") and not hint.get("html"):
            params.pop("hint", None)
        return params


class RadioInput(_DropEmptyHint, GovRadioInput):
    pass


class CheckboxesInput(_DropEmptyHint, GovCheckboxesInput):
    pass


def _name_field(label: str = "Name") -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        validators=[
            Present("Enter a name"),
            Length(max=NAME_MAX, message=f"Name must be {NAME_MAX} characters or fewer"),
        ],
    )


class WholeNumberField(StringField):
    """A whole number typed in a text box; `data` is an int, or None when left empty.

    `blank` is the message for an empty box; without it the box is optional. Its length is
    bounded by the pattern (at most 6 digits), so it needs no `Length` validator.
    """

    widget = GovTextInput()

    def __init__(
        self, label: str, *, limit: str, example: int, blank: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(label, **kwargs)
        self.limit = LIMITS[limit]
        self.example = example
        self.blank = blank

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = re.sub(r"[\s,]", "", str(valuelist[0])) if valuelist else ""
        self.data = int(text) if _NUMBER.fullmatch(text) else None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.data)

    def pre_validate(self, form: FlaskForm) -> None:
        typed = str(self.raw_data[0]).strip() if self.raw_data else ""
        if not typed:
            if self.blank:
                raise StopValidation(self.blank)
            return
        if self.data is None:
            unit = f" of {self.limit.unit}" if self.limit.unit else ""
            raise StopValidation(
                f"{self.limit.noun} must be a whole number{unit}, like {self.example}"
            )
        if not self.limit.low <= self.data <= self.limit.high:
            raise StopValidation(self.limit.message())


class PriceField(StringField):
    """A price in pounds ("70", "£45.50"); `data` is pence, or None when left empty.

    Its length is bounded by the pattern, so it needs no `Length` validator.
    """

    widget = GovTextInput()

    def __init__(self, label: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = re.sub(r"[\s,]", "", str(valuelist[0])) if valuelist else ""
        match = _PRICE.fullmatch(text)
        if match:
            pounds, pence = match.group(1), (match.group(2) or "0").ljust(2, "0")
            self.data = int(pounds) * 100 + int(pence)
        else:
            self.data = None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        if self.data is None:
            return ""
        pounds, pence = divmod(int(self.data), 100)
        return f"{pounds}.{pence:02d}" if pence else str(pounds)

    def pre_validate(self, form: FlaskForm) -> None:
        typed = str(self.raw_data[0]).strip() if self.raw_data else ""
        if not typed:
            return
        if self.data is None:
            raise StopValidation("Enter a price in pounds, like 70 or 45.50")
        if self.data > MAX_PRICE_PENCE:
            raise StopValidation("Price must be between £0 and £1,000")


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def radios(
    label: str, options: list[tuple[str, str]], message: str, *, empty_choice: bool = False
) -> RadioField:
    """GOV.UK radios with `message` when none is chosen.

    `empty_choice`: one of the choices has the value "" (like "No room"), so an empty value
    is an answer; only a missing one is refused.
    """
    return RadioField(
        label,
        choices=choices(options),
        widget=RadioInput(),
        validators=[] if empty_choice else [Present(message)],
        invalid_choice_message=message,
    )


def checkboxes(label: str, message: str) -> SelectMultipleField:
    return SelectMultipleField(
        label,
        choices=[],
        widget=CheckboxesInput(),
        invalid_choice_message=message,
    )


def _yes(field: Field) -> bool:
    return field.data == "yes"


def _text(field: Field) -> str:
    return str(field.data or "")


class PolicyForm(FlaskForm):
    min_notice_minutes = WholeNumberField(
        "Minimum notice",
        limit="min_notice_minutes",
        example=120,
        blank="Enter the minimum notice in minutes",
        description="How soon before a session patients can still book it online. "
        "Staff can book later than this.",
    )
    max_advance_days = WholeNumberField(
        "How far ahead patients can book",
        limit="max_advance_days",
        example=90,
        blank="Enter how far ahead patients can book, in days",
        description="The last day patients can choose, counted from today.",
    )
    slot_step_minutes = radios(
        "How often can sessions start?", STEP_CHOICES, "Select how often sessions can start"
    )
    cancellation_cutoff_hours = WholeNumberField(
        "Cancellation cut-off",
        limit="cancellation_cutoff_hours",
        example=24,
        blank="Enter the cancellation cut-off in hours",
        description="Patients can change or cancel online until this many hours before "
        "their session.",
    )
    late_cancel_mode = radios(
        "What happens if a patient wants to cancel inside the cut-off?",
        [
            ("call", "They are asked to phone the location"),
            ("record", "They can cancel online, and it is recorded as late"),
        ],
        "Select what happens inside the cut-off",
    )
    missed_threshold = WholeNumberField(
        "Missed sessions before a patient must phone to book",
        limit="missed_threshold",
        example=3,
        blank="Enter the number of missed sessions",
        description="Late cancellations and no-shows in the last 12 months.",
    )
    submit = SubmitField("Save booking policies", widget=GovSubmitInput())

    def values(self) -> PolicyValues:
        return PolicyValues(
            min_notice_minutes=self.min_notice_minutes.data,
            max_advance_days=self.max_advance_days.data,
            slot_step_minutes=int(self.slot_step_minutes.data),
            cancellation_cutoff_hours=self.cancellation_cutoff_hours.data,
            late_cancel_mode=self.late_cancel_mode.data,
            missed_threshold=self.missed_threshold.data,
        )


class LocationForm(FlaskForm):
    name = _name_field()
    address = TextAreaField(
        "Address",
        widget=GovTextArea(),
        validators=[
            Present("Enter the address"),
            Length(max=500, message="Address must be 500 characters or fewer"),
        ],
    )
    phone = StringField(
        "Phone number",
        widget=GovTextInput(),
        description="Patients see it when they need to phone, for example to cancel late.",
        validators=[
            Present("Enter a phone number"),
            Length(
                max=32,
                message="Enter a phone number, like 020 7946 0321 or +44 20 7946 0321",
            ),
        ],
    )
    country_code = StringField(
        "Country code",
        widget=GovTextInput(),
        description="Two letters, like GB or IE. Phone numbers are read in this country.",
        validators=[
            Present("Enter a two-letter country code, like GB or IE"),
            Length(max=2, message="Enter a two-letter country code, like GB or IE"),
        ],
    )
    timezone = StringField(
        "Time zone",
        widget=GovTextInput(),
        description="A name from the IANA list, like Europe/London or Europe/Dublin. "
        "Patients see times in this zone.",
        validators=[
            Present("Enter a time zone, like Europe/London"),
            Length(max=64, message="Enter a time zone from the IANA list, like Europe/London"),
        ],
    )
    min_notice_minutes = WholeNumberField(
        "Minimum notice (optional)", limit="min_notice_minutes", example=120
    )
    max_advance_days = WholeNumberField(
        "How far ahead patients can book (optional)", limit="max_advance_days", example=90
    )
    slot_step_minutes = radios(
        "How often can sessions start?",
        [],
        "Select how often sessions can start",
        empty_choice=True,
    )
    cancellation_cutoff_hours = WholeNumberField(
        "Cancellation cut-off (optional)", limit="cancellation_cutoff_hours", example=24
    )
    is_active = radios(
        "Can patients book at this location?", YES_NO, "Select yes if patients can book here"
    )
    submit = SubmitField("Save location", widget=GovSubmitInput())

    def __init__(self, *args: Any, clinic_step: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slot_step_minutes.choices = choices(
            [("", f"Use the clinic's setting (every {clinic_step} minutes)"), *STEP_CHOICES]
        )

    def values(self) -> LocationValues:
        step = self.slot_step_minutes.data
        return LocationValues(
            name=_text(self.name),
            address=_text(self.address),
            phone=_text(self.phone),
            timezone=_text(self.timezone),
            country_code=_text(self.country_code),
            is_active=_yes(self.is_active),
            min_notice_minutes=self.min_notice_minutes.data,
            max_advance_days=self.max_advance_days.data,
            slot_step_minutes=int(step) if step else None,
            cancellation_cutoff_hours=self.cancellation_cutoff_hours.data,
        )


class RoomForm(FlaskForm):
    name = _name_field()
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
            name=_text(self.name),
            kind=_text(self.kind),
            capacity=self.capacity.data,
            sort_order=self.sort_order.data,
            is_active=_yes(self.is_active),
        )


class SessionTypeForm(FlaskForm):
    name = _name_field()
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
            name=_text(self.name),
            description=_text(self.description),
            duration_minutes=self.duration_minutes.data,
            buffer_before_minutes=self.buffer_before_minutes.data,
            buffer_after_minutes=self.buffer_after_minutes.data,
            price_pence=self.price.data,
            audience=_text(self.audience),
            room_kind=self.room_kind.data or None,
            modalities=tuple(self.modalities.data or ()),
            practitioner_ids=tuple(int(pid) for pid in self.practitioner_ids.data or ()),
            sort_order=self.sort_order.data,
            is_active=_yes(self.is_active),
        )


# ---- Practitioners, weekly hours, time off and closures --------------------------------------
# Shared by the admin pages and the practitioner's own hours and time-off pages.

_CLOCK = re.compile(r"(\d{1,2})(?:[:.]?(\d{2}))?(am|pm)?")
_CLOCK_WORDS = {"noon": time(12), "midday": time(12), "midnight": time(0)}
START_TIME_MESSAGE = "Enter a start time, like 9:00 or 2:30pm"
END_TIME_MESSAGE = "Enter an end time, like 5:30pm or 17:30"
WEEKDAY_CHOICES = [(str(day), name) for day, name in enumerate(WEEKDAYS)]


def parse_clock(text: str) -> time | None:
    """A wall-clock time typed leniently ("9", "9:00", "09.30", "5pm", "2:30 p.m.", "noon").

    Returns None when the text is not a time of day.
    """
    cleaned = re.sub(r"\s+", "", text.lower()).replace("a.m.", "am").replace("p.m.", "pm")
    if cleaned in _CLOCK_WORDS:
        return _CLOCK_WORDS[cleaned]
    match = _CLOCK.fullmatch(cleaned)
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if minute > 59:
        return None
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif hour > 23:
        return None
    return time(hour, minute)


class ClockTimeField(StringField):
    """A time of day typed in a text box; `data` is a `time`, or None when left empty.

    `message` is shown when the box cannot be read as a time, and when it is empty unless
    `optional`. Its length is bounded by the pattern, so it needs no `Length` validator.
    """

    widget = GovTextInput()

    def __init__(self, label: str, *, message: str, optional: bool = False, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.message = message
        self.optional = optional

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = parse_clock(str(valuelist[0])) if valuelist else None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else f"{self.data.hour}:{self.data.minute:02d}"

    def pre_validate(self, form: FlaskForm) -> None:
        typed = str(self.raw_data[0]).strip() if self.raw_data else ""
        if not typed and self.optional:
            return
        if self.data is None:
            raise StopValidation(self.message)


class DatePartsField(Field):
    """A GOV.UK date input: boxes named `<name>-day`, `-month`, `-year` (ux.md §7).

    `data` is a `date`, or None when all three are empty and the field is optional (no
    `blank` message). Spaces and hyphens are ignored; months may be names ("jan"). The error
    summary links to the first box in error.
    """

    PARTS = ("day", "month", "year")

    def __init__(self, label: str, *, noun: str, blank: str | None = None, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.noun = noun
        self.blank = blank
        self.parts: dict[str, str] = dict.fromkeys(self.PARTS, "")
        self.parts_in_error: list[str] = []
        self.id = f"{self.name}-day"

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        self.process_errors = []
        self.object_data = data if isinstance(data, date) else None
        self.data = self.object_data
        if self.data is not None:
            self.parts = {"day": str(data.day), "month": str(data.month), "year": str(data.year)}
        self.raw_data = None
        if formdata is not None:
            self.parts = {p: str(formdata.get(f"{self.name}-{p}", "")) for p in self.PARTS}
            self.raw_data = list(self.parts.values())
            self.data = None

    def _fail(self, message: str, parts: tuple[str, ...] = PARTS) -> None:
        self.parts_in_error = list(parts)
        self.id = f"{self.name}-{parts[0]}"
        raise StopValidation(message)

    def pre_validate(self, form: FlaskForm) -> None:
        if self.raw_data is None:
            return
        raw = {p: re.sub(r"[\s\-]", "", value) for p, value in self.parts.items()}
        missing = tuple(p for p, value in raw.items() if not value)
        if len(missing) == 3:
            if self.blank:
                self._fail(self.blank)
            return
        if missing:
            self._fail(f"{self.noun} must include a {' and '.join(missing)}", missing)
        if any(len(value) > 10 for value in raw.values()):
            self._fail(f"{self.noun} must be a real date")
        month_text = raw["month"].lower()
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        month = MONTHS.get(month_text) or (int(month_text) if month_text.isdecimal() else 0)
        if not raw["day"].isdecimal() or not raw["year"].isdecimal() or not month:
            self._fail(f"{self.noun} must be a real date")
        if len(raw["year"]) != 4:
            self._fail("Year must include 4 numbers", ("year",))
        try:
            self.data = date(int(raw["year"]), month, int(raw["day"]))
        except (ValueError, OverflowError):  # a day or month past the C int range overflows
            self._fail(f"{self.noun} must be a real date")


class OptionalRadioField(RadioField):
    """Radios that may be left unanswered (`data` None); a tampered value is still refused."""

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data in (None, ""):
            return
        super().pre_validate(form)


def optional_radios(label: str, message: str) -> OptionalRadioField:
    return OptionalRadioField(
        label, choices=[], widget=RadioInput(), invalid_choice_message=message
    )


def _int_or_none(field: Field) -> int | None:
    return int(field.data) if field.data not in (None, "") else None


class NewPractitionerForm(FlaskForm):
    display_name = _name_field()
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        description="They sign in with it.",
        validators=[
            Present("Enter an email address"),
            Length(max=EMAIL_MAX, message="Email address must be 254 characters or fewer"),
        ],
    )
    password = PasswordField(
        "First password",
        widget=GovPasswordInput(),
        description=f"At least {PASSWORD_MIN} characters. Give it to them privately; "
        "they choose their own later.",
        validators=[
            Present("Enter a password"),
            Length(
                max=PASSWORD_MAX, message=f"Password must be {PASSWORD_MAX} characters or fewer"
            ),
        ],
    )
    submit = SubmitField("Add practitioner", widget=GovSubmitInput())

    def validate_email(self, field: StringField) -> None:
        try:
            check_account_email(_text(field))
        except InvalidInput as error:
            raise StopValidation(error.message) from error

    def validate_password(self, field: PasswordField) -> None:
        try:
            check_password(_text(field))
        except InvalidInput as error:
            raise StopValidation(error.message) from error

    def values(self) -> NewPractitionerValues:
        return NewPractitionerValues(
            display_name=_text(self.display_name),
            email=_text(self.email),
            password=_text(self.password),
        )


class PractitionerForm(FlaskForm):
    display_name = _name_field()
    bio = TextAreaField(
        "Bio (optional)",
        widget=GovTextArea(),
        description="A few sentences patients read when choosing who to see.",
        validators=[Length(max=BIO_MAX, message=f"Bio must be {BIO_MAX:,} characters or fewer")],
    )
    session_type_ids = checkboxes(
        "Which sessions do they offer? (optional)", "Select session types from the list"
    )
    can_review_articles = radios(
        "Can they review articles?", YES_NO, "Select yes if they can review articles"
    )
    is_active = radios(
        "Are they taking bookings?", YES_NO, "Select yes if they are taking bookings"
    )
    submit = SubmitField("Save practitioner", widget=GovSubmitInput())

    def __init__(self, *args: Any, session_types: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session_type_ids.choices = choices([(str(i), name) for i, name in session_types])

    def values(self) -> PractitionerValues:
        return PractitionerValues(
            display_name=_text(self.display_name),
            bio=_text(self.bio),
            session_type_ids=tuple(int(i) for i in self.session_type_ids.data or ()),
            can_review_articles=_yes(self.can_review_articles),
            is_active=_yes(self.is_active),
        )


class HoursForm(FlaskForm):
    location_id = radios("Where?", [], "Select a location from the list")
    weekday = radios("Which day?", WEEKDAY_CHOICES, "Select a day")
    start_time = ClockTimeField("Start time", message=START_TIME_MESSAGE)
    end_time = ClockTimeField("End time", message=END_TIME_MESSAGE)
    valid_from = DatePartsField("First day these hours apply (optional)", noun="First day")
    valid_until = DatePartsField("Last day these hours apply (optional)", noun="Last day")
    submit = SubmitField("Add hours", widget=GovSubmitInput())

    def __init__(self, *args: Any, locations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.location_id.choices = choices([(str(i), name) for i, name in locations])

    def values(self) -> HoursValues:
        return HoursValues(
            location_id=int(self.location_id.data),
            weekday=int(self.weekday.data),
            start_time=self.start_time.data,
            end_time=self.end_time.data,
            valid_from=self.valid_from.data,
            valid_until=self.valid_until.data,
        )


def _reason_field(description: str) -> StringField:
    return StringField(
        "Reason (optional)",
        widget=GovTextInput(),
        description=description,
        validators=[
            Length(max=REASON_MAX, message=f"Reason must be {REASON_MAX} characters or fewer")
        ],
    )


class _ExceptionForm(FlaskForm):
    """Time off, extra hours and closures: one dated exception, the same values."""

    def values(self) -> ExceptionValues:
        return ExceptionValues(
            kind=_text(self.kind),
            on_date=self.on_date.data,
            start_time=self.start_time.data,
            end_time=self.end_time.data,
            location_id=_int_or_none(self.location_id),
            reason=_text(self.reason),
        )


class TimeOffForm(_ExceptionForm):
    kind = radios(
        "What do you want to add?",
        [("time_off", "Time off"), ("extra_hours", "Extra hours")],
        "Select time off or extra hours",
    )
    on_date = DatePartsField("Date", noun="Date", blank="Enter the date")
    start_time = ClockTimeField("Start time (optional)", message=START_TIME_MESSAGE, optional=True)
    end_time = ClockTimeField("End time (optional)", message=END_TIME_MESSAGE, optional=True)
    location_id = optional_radios(
        "Where are the extra hours? (optional)", "Select where the extra hours are"
    )
    reason = _reason_field("Only staff see it.")
    submit = SubmitField("Add", widget=GovSubmitInput())

    def __init__(self, *args: Any, locations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.location_id.choices = choices([(str(i), name) for i, name in locations])


class ClosureForm(_ExceptionForm):
    kind = radios(
        "What is it?",
        [("closure", "Closure"), ("holiday", "Public holiday")],
        "Select closure or public holiday",
    )
    location_id = radios("Where does it apply?", [], "Select where it applies", empty_choice=True)
    on_date = DatePartsField("Date", noun="Date", blank="Enter the date")
    start_time = ClockTimeField("Start time (optional)", message=START_TIME_MESSAGE, optional=True)
    end_time = ClockTimeField("End time (optional)", message=END_TIME_MESSAGE, optional=True)
    reason = _reason_field("For example, staff training. Only staff see it.")
    submit = SubmitField("Add closure", widget=GovSubmitInput())

    def __init__(self, *args: Any, locations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.location_id.choices = choices(
            [("", "Every location"), *((str(i), name) for i, name in locations)]
        )
