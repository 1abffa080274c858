"""Email bodies, rendered by name: the words are pinned byte for byte.

The expected strings were captured from the Python-string bodies before they moved to
`templates/email/*.txt`, so the move changes no email a patient or practitioner receives.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking.mail import render_email
from booking.services.intake.links import FirstVisitIntake

LONDON = ZoneInfo("Europe/London")
WINTER = datetime(2027, 3, 3, 10, 30, tzinfo=LONDON)  # GMT
SUMMER = datetime(2027, 7, 14, 17, 5, tzinfo=LONDON)  # BST
CLINIC = "Meridian Acupuncture"
APPOINTMENT: dict[str, Any] = {
    "given_name": "Jo",
    "session_type": "First session",
    "start": WINTER,
    "practitioner": "Mei Lin Chen",
    "place": "London",
    "address": "1 Upper Street, London N1 0PQ",
    "phone": "020 7946 0000",
    "manage_url": "https://clinic.example/manage/abc",
    "change_sentences": (),
    "intake": None,
    "sequence": None,  # not a plan session (issue 17's "session k of N" line is left out)
    "clinic_name": CLINIC,
}

CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "appointment",
        {**APPOINTMENT, "kind": "confirmation"},
        "Hello Jo,\n\nYour First session is booked for Wednesday 3 March 2027 at 10:30am "
        "(London time, GMT).\nPractitioner: Mei Lin Chen\nPlace: London, 1 Upper Street, "
        "London N1 0PQ\n\nChange or cancel online:\nhttps://clinic.example/manage/abc\n\n"
        "Questions? Call 020 7946 0000.\n\nMeridian Acupuncture",
    ),
    (
        "appointment",
        {**APPOINTMENT, "kind": "change", "start": SUMMER},
        "Hello Jo,\n\nYour First session has moved to Wednesday 14 July 2027 at 5:05pm "
        "(London time, BST).\nPractitioner: Mei Lin Chen\nPlace: London, 1 Upper Street, "
        "London N1 0PQ\n\nChange or cancel online:\nhttps://clinic.example/manage/abc\n\n"
        "Questions? Call 020 7946 0000.\n\nMeridian Acupuncture",
    ),
    (
        # issue 19: what the pages say about changing online, a sentence a line
        "appointment",
        {
            **APPOINTMENT,
            "kind": "confirmation",
            "change_sentences": (
                "You booked less than 24 hours ahead. You can change or cancel online until "
                "10:45am on Tuesday 2 March 2027.",
                "After that, call London on 020 7946 0000.",
            ),
        },
        "Hello Jo,\n\nYour First session is booked for Wednesday 3 March 2027 at 10:30am "
        "(London time, GMT).\nPractitioner: Mei Lin Chen\nPlace: London, 1 Upper Street, "
        "London N1 0PQ\n\nYou booked less than 24 hours ahead. You can change or cancel "
        "online until 10:45am on Tuesday 2 March 2027.\nAfter that, call London on "
        "020 7946 0000.\n\nChange or cancel online:\nhttps://clinic.example/manage/abc\n\n"
        "Questions? Call 020 7946 0000.\n\nMeridian Acupuncture",
    ),
    (
        # no manage link (staff-made or cancelled) and no phone: the lines as they were
        "appointment",
        {**APPOINTMENT, "kind": "cancellation", "manage_url": None, "phone": None},
        "Hello Jo,\n\nYour First session on Wednesday 3 March 2027 at 10:30am "
        "(London time, GMT) is cancelled.\nPractitioner: Mei Lin Chen\nPlace: London, "
        "1 Upper Street, London N1 0PQ\n\nQuestions? Call None.\n\nMeridian Acupuncture",
    ),
    (
        "manage_link",
        {
            "given_name": "Jo",
            "session_type": "Follow-up session",
            "start": SUMMER,
            "link": "https://clinic.example/manage/new",
            "intake": None,
            "clinic_name": CLINIC,
        },
        "Hello Jo,\n\nHere is a new link for your Follow-up session on Wednesday 14 July 2027 "
        "at 5:05pm:\nhttps://clinic.example/manage/new\n\nYour earlier link keeps working "
        "until you use this one.\n\nMeridian Acupuncture",
    ),
    (
        # issue 19: a first visit's health questions, not yet answered
        "manage_link",
        {
            "given_name": "Jo",
            "session_type": "First session",
            "start": SUMMER,
            "link": "https://clinic.example/manage/new",
            "intake": FirstVisitIntake(done=False, started=False, url=None),
            "clinic_name": CLINIC,
        },
        "Hello Jo,\n\nHere is a new link for your First session on Wednesday 14 July 2027 "
        "at 5:05pm:\nhttps://clinic.example/manage/new\n\nYour earlier link keeps working "
        "until you use this one.\n\nHealth questions: not answered yet. The page this link "
        "opens has a link to them.\n\nMeridian Acupuncture",
    ),
    (
        # issue 19: a first visit's confirmation links to the health questions
        "appointment",
        {
            **APPOINTMENT,
            "kind": "confirmation",
            "intake": FirstVisitIntake(
                done=False, started=True, url="https://clinic.example/intake/start/7/abc"
            ),
        },
        "Hello Jo,\n\nYour First session is booked for Wednesday 3 March 2027 at 10:30am "
        "(London time, GMT).\nPractitioner: Mei Lin Chen\nPlace: London, 1 Upper Street, "
        "London N1 0PQ\n\nHealth questions: not finished yet. Your practitioner reads them "
        "before your first session.\nAnswer them here (no account needed):\n"
        "https://clinic.example/intake/start/7/abc\n\nChange or cancel online:\n"
        "https://clinic.example/manage/abc\n\nQuestions? Call 020 7946 0000.\n\n"
        "Meridian Acupuncture",
    ),
    (
        "find_you",
        {"link": "https://clinic.example/book/find-you/t0k", "clinic_name": CLINIC},
        "Hello,\n\nUse this link to carry on booking your session. It works once, for 20 "
        "minutes:\nhttps://clinic.example/book/find-you/t0k\n\nIf you did not ask for this, "
        "you can ignore this email.\n\nMeridian Acupuncture",
    ),
    (
        "intake_reminder",
        {
            "given_name": "Jo",
            "start": WINTER,
            "link": "https://clinic.example/intake/1/t",
            "clinic_name": CLINIC,
            "unsubscribe_url": None,
        },
        "Hello Jo,\n\nBefore your session on Wednesday 3 March 2027 at 10:30am, answer a few "
        "health questions so your practitioner can prepare:\nhttps://clinic.example/intake/1/t"
        "\n\nYour answers are saved as you go, so you can stop and come back.\n\n"
        "Meridian Acupuncture",
    ),
    (
        # the automatic one (issue 18) adds its opt-out link
        "intake_reminder",
        {
            "given_name": "Jo",
            "start": WINTER,
            "link": "https://clinic.example/intake/1/t",
            "clinic_name": CLINIC,
            "unsubscribe_url": "https://clinic.example/unsubscribe/1/u",
        },
        "Hello Jo,\n\nBefore your session on Wednesday 3 March 2027 at 10:30am, answer a few "
        "health questions so your practitioner can prepare:\nhttps://clinic.example/intake/1/t"
        "\n\nYour answers are saved as you go, so you can stop and come back.\n\n"
        "Meridian Acupuncture\n\nStop reminders by email:\nhttps://clinic.example/unsubscribe/1/u",
    ),
    (
        # privacy by default: no session type (its name can reveal a condition)
        "reminder",
        {
            "lead": "24h",
            "given_name": "Jo",
            "session_type": None,
            "start": SUMMER,
            "place": "London",
            "address": "1 Upper Street, London N1 0PQ",
            "phone": "020 7946 0000",
            "practitioner": "Mei Lin Chen",
            "clinic_name": CLINIC,
            "unsubscribe_url": "https://clinic.example/unsubscribe/1/u",
            "sequence": None,
        },
        "Hello Jo,\n\nThis is a reminder of your session tomorrow.\n\nWhen: Wednesday 14 July "
        "2027 at 5:05pm (London time, BST)\nWhere: London, 1 Upper Street, London N1 0PQ\n"
        "Practitioner: Mei Lin Chen\n\nTo change or cancel, use the link in your booking "
        "confirmation or call 020 7946 0000.\n\nMeridian Acupuncture\n\nStop session "
        "reminders by email:\nhttps://clinic.example/unsubscribe/1/u",
    ),
    (
        # the clinic allows details; no phone at the location
        "reminder",
        {
            "lead": "2h",
            "given_name": "Jo",
            "session_type": "First session",
            "start": WINTER,
            "place": "London",
            "address": "1 Upper Street, London N1 0PQ",
            "phone": None,
            "practitioner": "Mei Lin Chen",
            "clinic_name": CLINIC,
            "unsubscribe_url": "https://clinic.example/unsubscribe/1/u",
            "sequence": None,
        },
        "Hello Jo,\n\nThis is a reminder of your First session later today.\n\nWhen: Wednesday "
        "3 March 2027 at 10:30am (London time, GMT)\nWhere: London, 1 Upper Street, London N1 "
        "0PQ\nPractitioner: Mei Lin Chen\n\nTo change or cancel, use the link in your booking "
        "confirmation.\n\nMeridian Acupuncture\n\nStop session reminders by email:\n"
        "https://clinic.example/unsubscribe/1/u",
    ),
    (
        "password_changed",
        {
            "display_name": "Sam Patel",
            "changed_at": SUMMER,
            "phone": "020 7946 0000",
            "clinic_name": CLINIC,
        },
        "Hello Sam Patel,\n\nThe password for your Meridian Acupuncture account was changed on "
        "Wednesday 14 July 2027 at 5:05pm BST. You have been signed out on your other "
        "devices.\n\nIf you did not change it, call us on 020 7946 0000 straight away.\n\n"
        "Meridian Acupuncture",
    ),
    (
        "password_changed",
        {"display_name": "Sam Patel", "changed_at": WINTER, "phone": None, "clinic_name": CLINIC},
        "Hello Sam Patel,\n\nThe password for your Meridian Acupuncture account was changed on "
        "Wednesday 3 March 2027 at 10:30am GMT. You have been signed out on your other "
        "devices.\n\nIf you did not change it, contact the clinic straight away.\n\n"
        "Meridian Acupuncture",
    ),
    (
        "password_reset",
        {
            "display_name": "Jo Bloggs",
            "link": "https://clinic.example/auth/reset-password/abc",
            "minutes": 30,
            "clinic_name": "Meridian Acupuncture",
        },
        "Hello Jo Bloggs,\n\nSomeone asked to reset the password for your Meridian Acupuncture "
        "account. To choose a new password, open this link within 30 minutes:\n"
        "https://clinic.example/auth/reset-password/abc\n\nThe link works once. If you did not "
        "ask, you can ignore this email: your password has not changed.\n\nMeridian Acupuncture",
    ),
    (
        "account_invitation",
        {
            "display_name": "Robin Desk",
            "invited_by": "Clinic Admin",
            "role_name": "a receptionist",
            "link": "https://clinic.example/auth/invitation/abc",
            "days": 7,
            "clinic_name": "Meridian Acupuncture",
        },
        "Hello Robin Desk,\n\nClinic Admin has invited you to Meridian Acupuncture's booking "
        "system as a receptionist. To choose your password and sign in, open this link within "
        "7 days:\nhttps://clinic.example/auth/invitation/abc\n\nThe link works once. If you "
        "were not expecting this, you can ignore this email.\n\nMeridian Acupuncture",
    ),
    (
        "sign_up",
        {
            "given_name": "Jo",
            "link": "https://clinic.example/auth/create-account/abc",
            "hours": 24,
            "clinic_name": "Meridian Acupuncture",
        },
        "Hello Jo,\n\nTo create your Meridian Acupuncture account, open this link within 24 "
        "hours and choose a password:\nhttps://clinic.example/auth/create-account/abc\n\nYour "
        "account will show the sessions you have booked with this email address and health "
        "questions you have answered.\n\nThe link works once. If you did not ask for an "
        "account, you can ignore this email.\n\nMeridian Acupuncture",
    ),
    (
        "account_exists",
        {
            "display_name": "Jo Bloggs",
            "sign_in_link": "https://clinic.example/auth/sign-in",
            "clinic_name": "Meridian Acupuncture",
        },
        "Hello Jo Bloggs,\n\nSomeone asked to create a Meridian Acupuncture account with this "
        "email address, but you already have one. Sign in here:\n"
        "https://clinic.example/auth/sign-in\n\nIf you have forgotten your password, choose "
        '"Forgot your password?" on that page.\n\nMeridian Acupuncture',
    ),
]


@pytest.mark.parametrize(("name", "values", "body"), CASES)
def test_each_email_renders_exactly_as_before(name: str, values: dict[str, Any], body: str) -> None:
    assert render_email(name, **values) == body


def test_values_are_written_as_given_never_html_escaped() -> None:
    body = render_email("find_you", link="https://x.example/?a=1&b=<2>", clinic_name="A & B's")
    assert "https://x.example/?a=1&b=<2>\n" in body
    assert body.endswith("\nA & B's")


def test_an_unknown_email_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        render_email("no_such_email", clinic_name=CLINIC)


def test_a_missing_value_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        render_email("find_you", clinic_name=CLINIC)


def test_an_unknown_value_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        render_email("find_you", link="https://x.example", clinic_name=CLINIC, extra="x")


def test_an_unknown_appointment_kind_is_refused() -> None:
    with pytest.raises((KeyError, ValueError)):
        render_email("appointment", **{**APPOINTMENT, "kind": "no_such_kind"})
