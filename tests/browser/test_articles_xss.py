"""X1: the XSS corpus in article titles, summaries and bodies, rendered by real Chromium.

Each payload is published through the service into the live app's database as its own
article (`/articles/xss-<n>`), then every page is loaded with the Content-Security-Policy
enforced and with it bypassed (so the sanitiser alone is tested). Any execution would raise a
dialog or log `XSS-<n>`; both are counted, and the DOM is searched for anything executable.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, select

from booking.extensions import db
from booking.models import Article, Tag, User
from booking.services.articles import editing, queries, validation
from tests.browser.conftest import LiveServer
from tests.conftest import DEMO_EMAILS
from tests.integration.test_articles_sanitiser import PAYLOADS

pytestmark = pytest.mark.browser

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
CORPUS_TAG = "xss-corpus"

# Anything that could run script: handlers, script-bearing URLs, inline scripts, frames,
# objects, refresh and base tags anywhere; styles, SVG, MathML and forms inside the body.
_DANGER = """() => {
  const found = [];
  const urlAttributes = ['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'srcdoc',
                         'background', 'poster'];
  for (const el of document.querySelectorAll('*')) {
    for (const attribute of el.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith('on')) found.push(`${el.tagName}[${name}]`);
      const squeezed = attribute.value.replace(/[\\s\\u0000-\\u001f]/g, '');
      if (urlAttributes.includes(name) && /^(javascript|vbscript|data):/i.test(squeezed)) {
        found.push(`${el.tagName}[${name}=${attribute.value.slice(0, 40)}]`);
      }
    }
  }
  const everywhere = 'script:not([src]), iframe, frame, object, embed, base, meta[http-equiv], ' +
                     'link[rel=import], applet';
  for (const el of document.querySelectorAll(everywhere)) found.push(el.tagName);
  const inBody = 'style, [style], svg, math, form, input, button, textarea, select, details, ' +
                 'video, audio, source, template, img:not([src^="/static/"])';
  for (const body of document.querySelectorAll('.meridian-article-body')) {
    for (const el of body.querySelectorAll(inBody)) found.push(`body ${el.tagName}`);
  }
  return found;
}"""


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def corpus(live_app: Flask) -> Iterator[list[tuple[str, str]]]:
    """(slug, title) for each payload, published; removed again afterwards."""
    published = []
    with live_app.app_context():
        admin = db.session.scalar(select(User).where(User.email == DEMO_EMAILS["admin"]))
        for number, payload in enumerate(PAYLOADS, start=1):
            data = validation.check_input(
                title=payload[: validation.TITLE_MAX],
                summary=payload[: validation.SUMMARY_MAX],
                body=payload,
                tags=[CORPUS_TAG],
            )
            article = editing.create_article(data, slug=f"xss-{number}", actor=admin, now=NOW)
            editing.publish_article(article, actor=admin, now=NOW)
            published.append((article.slug, article.title))
        db.session.commit()
        db.session.remove()
    yield published
    with live_app.app_context():
        db.session.execute(delete(Article).where(Article.slug.like("xss-%")))
        db.session.execute(delete(Tag).where(Tag.slug == CORPUS_TAG))
        db.session.commit()
        db.session.remove()


def _page(browser: Any, server: LiveServer, *, bypass_csp: bool) -> Any:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, base_url=server.url, bypass_csp=bypass_csp
    )
    page = context.new_page()
    page.dialogs = []
    page.markers = []
    page.csp_reports = []
    page.off_site = []

    def _route(route: Any) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            page.off_site.append(route.request.url)
            route.abort()

    def _dialog(dialog: Any) -> None:
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(message: Any) -> None:
        if "XSS-" in message.text:
            page.markers.append(message.text)
        if "Content Security Policy" in message.text:
            page.csp_reports.append(message.text)

    page.route("**/*", _route)
    page.on("dialog", _dialog)
    page.on("console", _console)
    page.on("pageerror", lambda error: page.markers.append(f"page error: {error}"))
    return page


@pytest.mark.matrix("X1")
@pytest.mark.parametrize("csp", ["enforced", "bypassed"])
def test_no_payload_runs_and_each_is_escaped_or_removed(
    browser: Any, live_server: LiveServer, corpus: list[tuple[str, str]], csp: str
) -> None:
    page = _page(browser, live_server, bypass_csp=csp == "bypassed")
    problems: dict[str, object] = {}
    try:
        for slug, title in corpus:
            response = page.goto(f"/articles/{slug}")
            assert response is not None, slug
            assert response.status == 200, slug
            page.wait_for_timeout(30)  # let load-time handlers (onerror, autofocus) fire
            danger = page.evaluate(_DANGER)
            if danger:
                problems[slug] = danger
            # The title is shown as text, exactly as written: visibly escaped.
            if one_line(page.locator("h1").inner_text()) != one_line(title):
                problems[f"{slug} h1"] = page.locator("h1").inner_text()
            if not one_line(page.title()).startswith(one_line(title)):
                problems[f"{slug} <title>"] = page.title()
        for path in (f"/articles/?tag={CORPUS_TAG}", "/articles/?q=script", "/articles/?q=<"):
            page.goto(path)
            page.wait_for_timeout(30)
            danger = page.evaluate(_DANGER)
            if danger:
                problems[path] = danger
        listed = page.goto(f"/articles/?tag={CORPUS_TAG}")
        assert listed is not None
        assert listed.status == 200
        shown = {one_line(t) for t in page.locator("main h3 a").all_inner_texts()}
        assert len(shown) == min(len(corpus), queries.SEARCH_LIMIT)
        assert shown <= {one_line(title) for _slug, title in corpus}
        page.wait_for_timeout(200)
    finally:
        page.context.close()
    assert page.dialogs == []
    assert page.markers == []
    assert page.off_site == []
    if csp == "enforced":
        assert page.csp_reports == []  # nothing even tried to run inline
    assert problems == {}


def test_the_corpus_is_at_least_50_payloads_in_titles_and_bodies(
    corpus: list[tuple[str, str]],
) -> None:
    assert len(corpus) >= 50
    assert sum("<script" in title.lower() for _slug, title in corpus) >= 5
