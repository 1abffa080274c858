"""Booking, change and cancel in Chromium: keyboard only, JavaScript off, Tab budget, axe.

The live server uses the real clock and the demo clinic (hours, no appointments), so each
journey books the first free time it is offered (later weeks when it needs > 24 hours' notice).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import BookingDraft
from tests.browser.conftest import NARROW, at_both_widths, axe_violations, what_axe_misses

pytestmark = pytest.mark.browser

TAB_BUDGET = 7
FOCUS_IS = "(() => {{ const e = document.activeElement; return !!e && ({test}); }})()"


def focused(page: Any, test: str) -> bool:
    return bool(page.evaluate(FOCUS_IS.format(test=test)))


def tab_until(page: Any, test: str, limit: int = 60) -> int:
    """Press Tab until the focused element passes `test`; return how many presses it took."""
    for count in range(1, limit + 1):
        page.keyboard.press("Tab")
        if focused(page, test):
            return count
    raise AssertionError(f"Tab never reached {test!r} on {page.url}")


def button(text: str) -> str:
    return f"e.tagName === 'BUTTON' && e.textContent.trim() === {json.dumps(text)}"


def link(text: str) -> str:
    return f"e.tagName === 'A' && e.textContent.trim().startsWith({json.dumps(text)})"


def named(name: str) -> str:
    return f"e.name === {json.dumps(name)}"


def press_enter(page: Any) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def heading(page: Any) -> str:
    return page.locator("h1").inner_text().strip()


class KeyboardJourney:
    """Answers each question with the keyboard and records Tabs from load to Continue."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.tabs: dict[str, int] = {}

    def radio(self, name: str, *, down: int = 0, last: bool = False) -> None:
        """Tab into the radio group; Space picks the first, ArrowDown the next, ArrowUp the last."""
        page = self.page
        count = tab_until(page, named(name))
        for _ in range(down):
            page.keyboard.press("ArrowDown")
        if last:
            page.keyboard.press("ArrowUp")  # wraps round to the last radio of the group
        if not down and not last:
            page.keyboard.press("Space")
        self.finish(count + tab_until(page, button("Continue")))

    def fields(self, values: dict[str, str]) -> None:
        page = self.page
        names = list(values)
        count = tab_until(page, named(names[0]))
        page.keyboard.type(values[names[0]])
        for name in names[1:]:
            page.keyboard.press("Tab")
            count += 1
            assert focused(page, named(name)), name
            page.keyboard.type(values[name])
        self.finish(count + tab_until(page, button("Continue")))

    def finish(self, count: int) -> None:
        self.tabs[heading(self.page)] = count
        press_enter(self.page)


def book_with_keyboard(page: Any, *, later_weeks: bool = False) -> str:
    """The whole new-patient journey from `/`; returns the manage link."""
    page.goto("/")
    tab_until(page, link("Start now"))
    press_enter(page)
    journey = KeyboardJourney(page)
    assert heading(page) == "What would you like to book?"
    journey.radio("session_type")
    assert heading(page) == "Where would you like to go?"
    journey.radio("location")
    assert heading(page) == "Who would you like to see?"
    journey.radio("practitioner")
    assert heading(page) == "Choose a day"
    if later_weeks:
        tab_until(page, link("Later weeks"))
        press_enter(page)
    # The second free day: today's first time can slip inside the minimum notice mid-test.
    journey.radio("day", down=1)
    assert heading(page).startswith("Choose a time on ")
    journey.radio("start", last=True)
    assert heading(page) == "Have you booked with us before?"
    journey.radio("returning", down=1)
    assert heading(page) == "What is your name?"
    journey.fields({"given_name": "Kim", "family_name": "Keyboard"})
    journey.fields({"dob_day": "14", "dob_month": "4", "dob_year": "1984"})
    # Dublin (the first location): an Irish number as people there write it (issue 19).
    assert heading(page) == "What are your contact details?"
    journey.fields({"email": "kim.keyboard@example.com", "phone": "085 012 3456"})
    journey.radio("contact_preference")
    assert heading(page) == "Do any of these apply to you?"
    journey.radio("safety", down=1)
    assert heading(page) == "Check your answers before booking"
    tab_until(page, button("Book session"))
    press_enter(page)
    assert heading(page) == "Session booked"
    over = {title: n for title, n in journey.tabs.items() if n > TAB_BUDGET}
    assert over == {}, f"Tabs to Continue over {TAB_BUDGET}: {over}"
    href = page.locator("a", has_text="Change or cancel this session").get_attribute("href")
    return re.sub(r"^https?://[^/]+", "", href)


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_U2_U3_U4_booking_journey_with_the_keyboard_alone(page_factory: Any, js: bool) -> None:  # noqa: N802 - named by ux.md §10 goal IDs
    page = page_factory(js=js)
    manage = book_with_keyboard(page)
    assert manage.startswith("/manage/")
    assert page.off_site == []


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_U2_U3_change_and_cancel_from_the_manage_link(page_factory: Any, js: bool) -> None:  # noqa: N802 - named by ux.md §10 goal IDs
    page = page_factory(js=js)
    manage = book_with_keyboard(page, later_weeks=True)
    page.goto(manage)
    assert heading(page) == "Your session"
    tab_until(page, link("Change the time"))
    press_enter(page)
    assert heading(page) == "Choose a new day"
    tab_until(page, named("day"))
    page.keyboard.press("Space")
    tab_until(page, button("Continue"))
    press_enter(page)
    assert heading(page).startswith("Choose a new time on ")
    tab_until(page, named("start"))
    page.keyboard.press("ArrowUp")  # the last time of the day (wraps round)
    tab_until(page, button("Continue"))
    press_enter(page)
    assert heading(page) == "Check your new time"
    tab_until(page, button("Change session"))
    press_enter(page)
    assert heading(page) == "Session changed"
    page.goto(manage)
    tab_until(page, link("Cancel this session"))
    press_enter(page)
    assert heading(page) == "Are you sure you want to cancel this session?"
    tab_until(page, button("Cancel session"))
    press_enter(page)
    assert heading(page) == "Session cancelled"


# ---- axe on every page and error state -----------------------------------------------------


def check(page: Any, seen: list[str]) -> None:
    """axe, the markup rules and no sideways scroll, at both widths."""

    def _at_this_width() -> None:
        seen.append(f"{heading(page)} ({page.url}, {page.viewport_size['width']} px)")
        assert axe_violations(page) == [], seen[-1]
        assert what_axe_misses(page) == [], seen[-1]
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), seen[-1]

    at_both_widths(page, _at_this_width)
    assert page.off_site == []


def click(page: Any, role: str, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role(role, name=name).click()


def answer(page: Any, seen: list[str], fill: Any) -> None:
    """Check the page, submit it empty (error state), check again, then answer it."""
    check(page, seen)
    click(page, "button", "Continue")
    assert page.title().startswith("Error: "), page.url
    check(page, seen)
    fill()
    click(page, "button", "Continue")


def first_radio(page: Any, name: str) -> Any:
    return lambda: page.locator(f"input[name={name}]").first.check()


def mark_hold_expired(app: Flask) -> None:
    """Make every draft's chosen time look lost, so /book/expired has something to show."""
    with app.app_context():
        for draft in db.session.scalars(select(BookingDraft)):
            answers = dict(draft.answers or {})
            if "starts_at" in answers:
                answers["expired"] = answers["starts_at"]
                draft.answers = answers
        db.session.commit()


def test_U1_every_booking_page_and_error_state_passes_axe(  # noqa: N802 - named by ux.md §10 goal IDs
    page_factory: Any, live_app: Flask
) -> None:
    """One walk at 320 px; each page and error state checked at both widths."""
    seen: list[str] = []
    width = NARROW
    page = page_factory(width=width)
    page.goto("/")
    check(page, seen)
    click(page, "link", "Start now")
    answer(page, seen, first_radio(page, "session_type"))
    answer(page, seen, first_radio(page, "location"))
    answer(page, seen, first_radio(page, "practitioner"))
    # The last free day of the fortnight: far from the minimum notice on the real clock.
    answer(page, seen, lambda: page.locator("input[name=day]").last.check())
    time_url = page.url
    # A second browser takes the same time first: this one gets the "just taken" page.
    rival = page_factory(width=width)
    rival.goto("/book")
    for name in ("session_type", "location", "practitioner", "day"):
        radios = rival.locator(f"input[name={name}]")
        (radios.last if name == "day" else radios.first).check()
        click(rival, "button", "Continue")
    answer(page, seen, lambda: page.locator("input[name=start]").last.check())
    rival.locator("input[name=start]").last.check()
    click(rival, "button", "Continue")
    assert "has just been booked" in heading(rival)
    check(rival, seen)
    click(rival, "button", "Continue")
    assert rival.title().startswith("Error: ")
    check(rival, seen)
    assert page.url != time_url
    answer(page, seen, lambda: page.locator("input[name=returning]").last.check())
    answer(page, seen, lambda: (page.fill("#given_name", "Ada"), page.fill("#family_name", "Ax")))
    answer(
        page,
        seen,
        lambda: (
            page.fill("#dob_day", "1"),
            page.fill("#dob_month", "2"),
            page.fill("#dob_year", "1990"),
        ),
    )
    answer(
        page,
        seen,
        lambda: (page.fill("#email", "ada@example.com"), page.fill("#phone", "+44 7400 123 456")),
    )
    answer(page, seen, first_radio(page, "contact_preference"))
    check(page, seen)  # safety
    click(page, "button", "Continue")
    check(page, seen)
    page.locator("input[name=safety]").first.check()  # Yes: the urgent care card
    click(page, "button", "Continue")
    assert heading(page) == "Get medical advice today"
    check(page, seen)
    click(page, "link", "Continue booking")
    assert heading(page) == "Check your answers before booking"
    check(page, seen)
    for path in ("/book/no-times", "/book/returning"):
        page.goto(path)
        check(page, seen)
    page.goto("/book/find-you")
    check(page, seen)
    mark_hold_expired(live_app)
    page.goto("/book/expired")
    assert heading(page).startswith("We are no longer holding")
    check(page, seen)
    page.goto("/book/check")
    click(page, "button", "Book session")
    assert heading(page) == "Session booked"
    check(page, seen)
    manage = page.locator("a", has_text="Change or cancel this session").get_attribute("href")
    for suffix in ("", "/day", "/cancel"):
        page.goto(manage + suffix)
        check(page, seen)
    page.goto(manage + "/day")
    answer(page, seen, first_radio(page, "day"))
    answer(page, seen, lambda: page.locator("input[name=start]").last.check())
    assert heading(page) == "Check your new time"
    check(page, seen)
    page.goto("/manage/not-a-real-link")
    assert heading(page) == "This link has expired or is not valid"
    check(page, seen)
    click(page, "button", "Send a new link")
    assert page.title().startswith("Error: ")
    check(page, seen)
    page.fill("#email", "ada@example.com")
    click(page, "button", "Send a new link")
    assert heading(page) == "Check your email"
    check(page, seen)
    page.goto("/book/confirmation")
    check(page, seen)
