"""Email words come from the translation catalogue: a language is added without code.

Also pins the waitlist offer and check-in bodies, and holds the extracted template
(booking/translations/messages.pot) to the strings the templates and services mark.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from booking import mail
from booking.mail import gettext, render_email

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2027, 4, 14, 10, 0, tzinfo=ZoneInfo("Europe/London"))


def _reset() -> None:
    for cached in (mail._catalogue, mail._environment, mail._template):
        cached.cache_clear()


@pytest.fixture
def welsh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    catalog = Catalog(locale="cy")
    catalog.add("Hello,", "Helo,")
    catalog.add("A time has come up – %(clinic)s", "Mae amser ar gael – %(clinic)s")
    folder = tmp_path / "cy" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)
    monkeypatch.setattr(mail, "TRANSLATIONS", tmp_path)
    monkeypatch.setattr(mail, "EMAIL_LANGUAGE", "cy")
    _reset()
    yield
    _reset()


def test_another_language_needs_only_its_catalogue(welsh: None) -> None:
    body = render_email("find_you", link="https://x.example/l", clinic_name="Meridian")
    assert body.startswith("Helo,\n\n")
    # A string the catalogue lacks stays in English.
    assert "Use this link to carry on booking your session." in body
    assert gettext("A time has come up – %(clinic)s") % {"clinic": "M"} == "Mae amser ar gael – M"


def test_the_offer_body() -> None:
    assert render_email(
        "waitlist_offer",
        given_name="Ada",
        session_type="Acupuncture",
        start=START,
        practitioner="Mei Lin",
        place="Islington",
        link="https://x.example/waitlist/offer/t",
        expires=START.replace(hour=8),
        clinic_name="Meridian",
    ) == (
        "Hello Ada,\n\n"
        "A time has come up for the Acupuncture you are waiting for:\n"
        "Wednesday 14 April 2027 at 10am (Islington time, BST)\n"
        "Practitioner: Mei Lin\n\n"
        "We have offered this time to a few people on the waitlist. The first to confirm gets "
        "it. To book it, use this link before Wednesday 14 April 2027 at 8am:\n"
        "https://x.example/waitlist/offer/t\n\n"
        "If you cannot make it, you do not need to do anything: you stay on the waitlist.\n\n"
        "Meridian"
    )


def test_the_check_in_body() -> None:
    assert render_email(
        "checkin",
        given_name="Fay",
        start=START,
        link="https://x.example/aftercare/t",
        phone="020 7946 0000",
        clinic_name="Meridian",
    ) == (
        "Hello Fay,\n\n"
        "Thank you for coming to Meridian on Wednesday 14 April 2027. How are you feeling?\n\n"
        "Some people feel a little sore, tired or bruised after acupuncture. If you have "
        "noticed anything, tell us here and we will get back to you:\n"
        "https://x.example/aftercare/t\n\n"
        "If you feel very unwell, call 020 7946 0000 or, in an emergency, 999.\n\n"
        "Meridian"
    )


def test_the_catalogue_template_holds_every_marked_string() -> None:
    """After changing a marked string, `make translations-extract` refreshes the catalogues."""
    method_map = [("templates/email/**.txt", "jinja2"), ("booking/**.py", "python")]
    options = {"templates/email/**.txt": {"extensions": "jinja2.ext.i18n"}}
    marked = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options, keywords={"_": None, "gettext": None}
        )
    }
    with (ROOT / "booking" / "translations" / "messages.pot").open("rb") as handle:
        extracted = {m.id for m in read_po(handle) if m.id}
    assert marked == extracted
