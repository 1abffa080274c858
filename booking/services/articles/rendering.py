"""Article bodies as safe HTML: Markdown rendered with raw HTML off, then cleaned by nh3.

Bodies are Markdown rendered by markdown-it-py with raw HTML off, then cleaned by nh3 with a
strict allowlist; the result is cached on the row per revision (no in-process state, so every
gunicorn worker sees the same cache). Only that cleaned HTML is ever marked safe in templates.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from sqlalchemy import update

from booking.db_hooks import write_unit
from booking.models import Article

_MARKDOWN = MarkdownIt("js-default")  # CommonMark + tables; raw HTML off, no linkify


_BODY_TAGS = {
    "h2",
    "h3",
    "h4",
    "p",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "blockquote",
    "code",
    "pre",
    "img",
    "br",
    "hr",
}


# GOV.UK classes set by the sanitiser itself: no class written in a body ever survives.
_CLASSES = {
    "h2": "govuk-heading-m",
    "h3": "govuk-heading-s",
    "h4": "govuk-heading-s",
    "p": "govuk-body",
    "ul": "govuk-list govuk-list--bullet",
    "ol": "govuk-list govuk-list--number",
    "a": "govuk-link",
    "table": "govuk-table",
    "thead": "govuk-table__head",
    "tbody": "govuk-table__body",
    "tr": "govuk-table__row",
    "th": "govuk-table__header",
    "td": "govuk-table__cell",
    "blockquote": "govuk-inset-text",
    "hr": "govuk-section-break govuk-section-break--m govuk-section-break--visible",
}


_TABLE_OPEN = '<table class="govuk-table">'


_TABLE_WRAP = (
    '<div class="meridian-table-scroll" role="region" aria-label="Table" tabindex="0">'
    + _TABLE_OPEN
)


def _relative_url(url: str) -> str | None:
    """Keep same-site paths and fragments; drop `//host`, `/\\host` and bare relative paths."""
    if url.startswith("#"):
        return url
    if url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return None


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if _is_static_path(value) else None
    return value


def _is_static_path(url: str) -> bool:
    return url.startswith("/static/") and "\\" not in url and ".." not in url


_CLEANER = nh3.Cleaner(
    tags=_BODY_TAGS,
    clean_content_tags={"script", "style"},
    attributes={"a": {"href", "title"}, "img": {"src", "alt"}},
    attribute_filter=_attribute_filter,
    url_schemes={"http", "https", "mailto"},
    url_relative=_relative_url,
    link_rel="noopener noreferrer",
    strip_comments=True,
    set_tag_attribute_values={
        **{tag: {"class": css} for tag, css in _CLASSES.items()},
        "th": {"class": _CLASSES["th"], "scope": "col"},
    },
)


def _normalise_tokens(tokens: list[Token]) -> None:
    """Start body headings at h2 with no skipped level; turn off-site images into their text.

    The page's h1 is the title, so a body `# Heading` becomes h2, and each heading is at most
    one level below the one before it (axe's heading-order rule).
    """
    previous = 1
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            level = max(2, min(int(token.tag[1]), previous + 1, 4))
            token.tag = tokens[index + 2].tag = f"h{level}"
            previous = level
        elif token.type == "inline" and token.children:
            for child_index, child in enumerate(token.children):
                if child.type == "image" and not _is_static_path(str(child.attrGet("src") or "")):
                    alt = child.content
                    token.children[child_index] = Token("text", "", 0, content=alt)


def render_markdown(body: str) -> str:
    """Markdown to HTML that is safe to mark `|safe`: raw HTML is text, then nh3 cleans."""
    tokens = _MARKDOWN.parse(body)
    _normalise_tokens(tokens)
    html = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})
    cleaned = _CLEANER.clean(html)
    # After cleaning, "<table" can only be a real table (text is escaped), so wrapping it in a
    # scrolling region cannot be steered by the body.
    return cleaned.replace(_TABLE_OPEN, _TABLE_WRAP).replace("</table>", "</table></div>")


def article_html(article: Article) -> str:
    """The cached sanitised body of the article's current revision, rendering it if stale."""
    if article.rendered_revision == article.revision:
        return article.body_html
    html = render_markdown(article.body)
    with write_unit() as session:
        session.execute(
            update(Article)
            .where(Article.id == article.id, Article.revision == article.revision)
            .values(body_html=html, rendered_revision=article.revision)
            .execution_options(synchronize_session=False)
        )
    return html
