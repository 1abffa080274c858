"""Real Chromium (Debian's /usr/bin/chromium) via Playwright against a live server."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import IN_CI, base_config, seed_demo

CHROMIUM = Path("/usr/bin/chromium")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
WIDTHS = (1280, 320)
NARROW = WIDTHS[-1]  # the width one walk through a journey is made at
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("CI=true but /usr/bin/chromium is missing: browser tests must run")
        pytest.skip("/usr/bin/chromium missing: browser tests skipped locally")


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


def make_live_app(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, name: str
) -> Flask:
    """A demo-seeded app on its own copy of the migrated SQLite template."""
    from booking import create_app

    path = tmp_path_factory.mktemp(name) / "live.sqlite"
    shutil.copyfile(sqlite_template, path)
    app = create_app(base_config(f"sqlite:///{path}"))
    seed_demo(app)
    return app


@contextmanager
def serving(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_app(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return make_live_app(sqlite_template, tmp_path_factory, "live")


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[LiveServer]:
    with serving(live_app) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


class OffSiteRequests(list):
    """Requests that tried to leave 127.0.0.1 (they are aborted)."""


def new_page(browser: Any, server: LiveServer, *, width: int = 1280, js: bool = True) -> Any:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=js, base_url=server.url
    )
    page = context.new_page()
    page.off_site = OffSiteRequests()
    page.console_errors = []

    def _route(route: Any) -> None:
        if route.request.url.startswith(server.url) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            page.off_site.append(route.request.url)
            route.abort()

    page.route("**/*", _route)
    page.on(
        "console",
        lambda message: (
            page.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    return page


@contextmanager
def opening_pages(
    browser: Any, server: LiveServer, *, stay_on_site: bool = False
) -> Iterator[Callable[..., Any]]:
    """Yield `open(width=, js=)` making pages on `server`; close them all afterwards.

    With `stay_on_site`, a page that tried to load anything off 127.0.0.1 fails the test.
    """
    pages: list[Any] = []

    def _make(width: int = 1280, js: bool = True) -> Any:
        page = new_page(browser, server, width=width, js=js)
        pages.append(page)
        return page

    yield _make
    for page in pages:
        if stay_on_site:
            assert page.off_site == []
        page.context.close()


@pytest.fixture
def page_factory(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    with opening_pages(browser, live_server) as open_page:
        yield open_page


@cache
def _axe_source() -> str:
    from axe_playwright_python.sync_playwright import Axe

    return str(Axe().axe_script)


# Only the violations come back, each with what a failure message shows: axe still runs every
# rule of the six tags, but with resultTypes it skips collecting every passing node, and the
# page no longer sends its full results (100-150 kB per page) to Python. About half the time of
# an axe check.
_AXE_RUN = """options => axe.run(document, options).then(results => results.violations.map(
    v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 5).map(n => n.target)})))"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core with the six tags passed explicitly; return the violations."""
    page.evaluate(_axe_source())
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    return list(page.evaluate(_AXE_RUN, options))


def at_both_widths(page: Any, check: Callable[[], object]) -> None:
    """Run `check` on this page at each of WIDTHS, then give the page back its own width.

    ux.md asks for every page at 1280 and 320 px: a journey walked once (at 320 px, the width
    where a control is likelier to be covered) is checked at both widths on each page it
    reaches, instead of being walked again for each width.
    """
    own = page.viewport_size
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": own["height"]})
        check()
    page.set_viewport_size(own)


def what_axe_misses(page: Any) -> list[str]:
    """ux.md §9: markup rules axe does not check, each expected 0 times per page."""
    checks = {
        "[onclick]": "[onclick]",
        "role=button on a non-button": "[role=button]:not(button)",
        "positive tabindex": "[tabindex]:not([tabindex='0']):not([tabindex='-1'])",
        "placeholder": "[placeholder]",
        "draggable": "[draggable=true]",
        "range input": "input[type=range]",
        "required attribute": "[required]",
        "form without novalidate": "form:not([novalidate])",
    }
    problems = [name for name, selector in checks.items() if page.locator(selector).count()]
    if page.locator("h1").count() != 1:
        problems.append("not exactly one h1")
    return problems


def sign_in_with_keyboard(page: Any, email: str, password: str) -> None:
    """Fill and submit the sign-in form with only the keyboard."""
    page.keyboard.press("Tab")
    for _ in range(20):
        focused = page.evaluate("document.activeElement && document.activeElement.id")
        if focused == "email":
            break
        page.keyboard.press("Tab")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
