"""Educational articles: safe Markdown rendering, drafts and publishing, tags, import.

Bodies are Markdown rendered by markdown-it-py with raw HTML off, then cleaned by nh3 with a
strict allowlist; the result is cached on the row per revision (no in-process state, so every
gunicorn worker sees the same cache). Only that cleaned HTML is ever marked safe in templates.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nh3
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import aliased, selectinload

from booking.db_hooks import write_unit
from booking.extensions import db
from booking.models import Article, ArticleStatus, Practitioner, Role, SessionType, Tag
from booking.models.article import article_tag
from booking.scheduling.errors import InvalidInput, NotAllowed, NotFound

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Paths under /articles/ that are pages of their own, so no article may take them as a slug.
RESERVED_SLUGS = frozenset({"manage", "new"})
STAFF_ARTICLE_ROLES = frozenset({Role.practitioner, Role.admin})
TITLE_MAX = 200
SUMMARY_MAX = 500
BODY_MAX = 50_000
SLUG_MAX = 100
TAG_MAX = 100
TAGS_MAX = 20
REFERENCES_MAX = 30
REFERENCE_TITLE_MAX = 300
REFERENCE_URL_MAX = 500
QUERY_MAX = 100
SEARCH_LIMIT = 50
IMPORT_FILE_MAX_BYTES = 1024 * 1024
FRONT_MATTER_KEYS = frozenset({"title", "summary", "tags", "references", "status"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# ---- Rendering --------------------------------------------------------------------------

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


# ---- Input --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    title: str
    url: str


@dataclass(frozen=True)
class ArticleInput:
    """Checked article content: what the form and the importer both hand to the service."""

    title: str
    summary: str
    body: str
    tags: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()


def _text(value: Any, *, field_name: str, label: str, max_length: int, empty_ok: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{label} must be text", field=field_name)
    value = unicodedata.normalize("NFC", value.strip())
    if not value and not empty_ok:
        raise InvalidInput(f"Enter {label.lower()}", field=field_name)
    if len(value) > max_length:
        raise InvalidInput(f"{label} must be {max_length} characters or fewer", field=field_name)
    if _CONTROL.search(value):
        raise InvalidInput(f"{label} must not contain control characters", field=field_name)
    return value


def normalise_tag(raw: str) -> str:
    """`Low back pain` and `low-back-pain` both become `low-back-pain`."""
    return re.sub(r"[\s_]+", "-", raw.strip().lower())


def check_slug(slug: str) -> str:
    """The slug if it can be a web address; raises InvalidInput otherwise."""
    if not slug or len(slug) > SLUG_MAX or not SLUG_PATTERN.match(slug):
        raise InvalidInput(
            "Web address must use only lower-case letters, numbers and single hyphens, "
            f"and be {SLUG_MAX} characters or fewer",
            field="slug",
        )
    if slug in RESERVED_SLUGS:
        raise InvalidInput(f"Web address cannot be “{slug}”: choose another", field="slug")
    return slug


def slug_from_title(title: str) -> str:
    """A web address from a title: `What to expect?` becomes `what-to-expect`."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def check_input(
    *,
    title: Any,
    summary: Any,
    body: Any,
    tags: Any = (),
    references: Any = (),
) -> ArticleInput:
    """Validate raw article content (from a form or front matter).

    Raises InvalidInput naming the field: title, summary, body, tags or references.
    """
    if isinstance(title, str):
        title = " ".join(title.split())  # a title is one line
    checked_title = _text(
        title, field_name="title", label="Title", max_length=TITLE_MAX, empty_ok=False
    )
    checked_summary = _text(
        summary, field_name="summary", label="Summary", max_length=SUMMARY_MAX, empty_ok=False
    )
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise InvalidInput("Body must be text", field="body")
    if len(body) > BODY_MAX:
        raise InvalidInput(f"Body must be {BODY_MAX:,} characters or fewer", field="body")
    if not body.strip():
        raise InvalidInput("Enter the body of the article", field="body")
    return ArticleInput(
        title=checked_title,
        summary=checked_summary,
        body=body.replace("\r\n", "\n").strip() + "\n",
        tags=_check_tags(tags),
        references=_check_references(references),
    )


def _check_tags(tags: Any) -> tuple[str, ...]:
    if tags is None:
        return ()
    if not isinstance(tags, list | tuple):
        raise InvalidInput("Tags must be a list", field="tags")
    result: list[str] = []
    for raw in tags:
        if not isinstance(raw, str):
            raise InvalidInput("Each tag must be text", field="tags")
        tag = normalise_tag(raw)
        if not tag:
            continue
        if len(tag) > TAG_MAX or not SLUG_PATTERN.match(tag):
            raise InvalidInput(
                "Tags must use only letters, numbers, spaces and hyphens, "
                f"like low-back-pain: “{raw[:40]}” does not",
                field="tags",
            )
        if tag not in result:
            result.append(tag)
    if len(result) > TAGS_MAX:
        raise InvalidInput(f"An article can have up to {TAGS_MAX} tags", field="tags")
    return tuple(result)


def _check_references(references: Any) -> tuple[Reference, ...]:
    if references is None:
        return ()
    if not isinstance(references, list | tuple):
        raise InvalidInput("References must be a list", field="references")
    if len(references) > REFERENCES_MAX:
        raise InvalidInput(
            f"An article can have up to {REFERENCES_MAX} references", field="references"
        )
    result = []
    for number, item in enumerate(references, start=1):
        if isinstance(item, Reference):
            item = {"title": item.title, "url": item.url}
        if not isinstance(item, dict) or set(item) - {"title", "url"}:
            raise InvalidInput(
                f"Reference {number} must have only a title and a url", field="references"
            )
        title = _text(
            item.get("title"),
            field_name="references",
            label=f"Reference {number} title",
            max_length=REFERENCE_TITLE_MAX,
            empty_ok=False,
        )
        url = _text(
            item.get("url"),
            field_name="references",
            label=f"Reference {number} link",
            max_length=REFERENCE_URL_MAX,
            empty_ok=False,
        )
        if not re.match(r"^https?://[^\s/?#\\]+[^\s\\]*$", url):
            raise InvalidInput(
                f"Reference {number} link must start with https:// or http://",
                field="references",
            )
        result.append(Reference(title=title, url=url))
    return tuple(result)


# ---- Permissions ----------------------------------------------------------------------------


def _role(actor: Any) -> str | None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return str(actor.role)


def can_preview(actor: Any) -> bool:
    """Practitioners and admins can read drafts."""
    return _role(actor) in STAFF_ARTICLE_ROLES


def can_edit(article: Article, actor: Any) -> bool:
    """Admins edit any article; practitioners only their own drafts."""
    role = _role(actor)
    if role == Role.admin:
        return True
    return (
        role == Role.practitioner
        and article.status == ArticleStatus.draft
        and article.author_id == actor.id
    )


def can_publish(actor: Any) -> bool:
    """Admins, and practitioners marked as article reviewers."""
    role = _role(actor)
    if role == Role.admin:
        return True
    if role != Role.practitioner:
        return False
    return bool(
        db.session.scalar(
            select(Practitioner.can_review_articles).where(Practitioner.user_id == actor.id)
        )
    )


# ---- Reading --------------------------------------------------------------------------------


def _loaded() -> Select[Article]:
    return select(Article).options(
        selectinload(Article.tags),
        selectinload(Article.author),
        selectinload(Article.reviewer),
    )


def get_article(slug: str, *, actor: Any) -> Article:
    """The article at `slug` as `actor` may see it.

    Raises NotFound for a missing slug, and for a draft unless the actor can preview drafts.
    """
    article = db.session.scalar(_loaded().where(Article.slug == slug))
    if article is None or (not article.is_published and not can_preview(actor)):
        raise NotFound("Page not found")
    return article


def get_editable_article(slug: str, *, actor: Any) -> Article:
    """The article at `slug` if `actor` may edit it.

    Raises NotFound for a missing slug and NotAllowed when the actor may not edit it.
    """
    article = get_article(slug, actor=actor)
    if not can_edit(article, actor):
        raise NotAllowed("Only an admin, or the author of a draft, can edit this article")
    return article


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def published_articles(
    *, tag: str | None = None, query: str | None = None, limit: int = SEARCH_LIMIT
) -> list[Article]:
    """Published articles by title, filtered by tag slug and a case-insensitive search.

    The search looks in title, summary and body; it is cut to QUERY_MAX characters and
    returns at most `limit` rows.
    """
    statement = (
        select(Article)
        .options(selectinload(Article.tags))
        .where(Article.status == ArticleStatus.published)
        .order_by(Article.title, Article.id)
        .limit(min(limit, SEARCH_LIMIT))
    )
    if tag:
        statement = statement.where(Article.tags.any(Tag.slug == tag))
    if query and query.strip():
        pattern = f"%{_escape_like(query.strip()[:QUERY_MAX].lower())}%"
        statement = statement.where(
            or_(
                func.lower(Article.title).like(pattern, escape="\\"),
                func.lower(Article.summary).like(pattern, escape="\\"),
                func.lower(Article.body).like(pattern, escape="\\"),
            )
        )
    return list(db.session.scalars(statement))


def all_articles() -> list[Article]:
    """Every article, drafts first, for the staff list."""
    return list(
        db.session.scalars(
            select(Article)
            .options(selectinload(Article.author))
            .order_by(Article.status, Article.title, Article.id)
        )
    )


def published_tags() -> list[Tag]:
    """Tags used by at least one published article, by name."""
    return list(
        db.session.scalars(
            select(Tag).where(Tag.id.in_(_published_tag_ids())).order_by(Tag.name, Tag.id)
        )
    )


def _published_tag_ids() -> Select[int]:
    return (
        select(article_tag.c.tag_id)
        .join(Article, Article.id == article_tag.c.article_id)
        .where(Article.status == ArticleStatus.published)
    )


def get_tag(slug: str) -> Tag | None:
    return db.session.scalar(select(Tag).where(Tag.slug == slug))


def articles_for_session_types(slugs: Iterable[str], limit: int = 3) -> dict[str, list[Article]]:
    """Up to `limit` published articles tagged with each session-type slug, in one query.

    Articles tagged with fewer session types come first: they are the most specific.
    """
    wanted = list(dict.fromkeys(slugs))
    result: dict[str, list[Article]] = {slug: [] for slug in wanted}
    if not wanted:
        return result
    other_link = article_tag.alias("other_link")
    other_tag = aliased(Tag)
    session_type_tags = (
        select(func.count())
        .select_from(other_link.join(other_tag, other_tag.id == other_link.c.tag_id))
        .where(
            other_link.c.article_id == Article.id,
            other_tag.slug.in_(select(SessionType.slug)),
        )
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Tag.slug, Article)
        .join(article_tag, article_tag.c.tag_id == Tag.id)
        .join(Article, Article.id == article_tag.c.article_id)
        .where(Tag.slug.in_(wanted), Article.status == ArticleStatus.published)
        .order_by(session_type_tags, Article.title, Article.id)
    )
    for slug, article in rows:
        if len(result[slug]) < limit:
            result[slug].append(article)
    return result


def articles_for_session_type(slug: str, limit: int = 3) -> list[Article]:
    """Up to `limit` published articles tagged with a session type's slug, by title."""
    return articles_for_session_types([slug], limit)[slug]


def related_articles(article: Article, limit: int = 3) -> list[Article]:
    """Other published articles sharing a tag, most shared tags first."""
    tag_ids = [tag.id for tag in article.tags]
    if not tag_ids:
        return []
    shared = func.count(article_tag.c.tag_id)
    return list(
        db.session.scalars(
            select(Article)
            .join(article_tag, article_tag.c.article_id == Article.id)
            .where(
                article_tag.c.tag_id.in_(tag_ids),
                Article.id != article.id,
                Article.status == ArticleStatus.published,
            )
            .group_by(Article.id)
            .order_by(shared.desc(), Article.title, Article.id)
            .limit(limit)
        )
    )


def session_types_for(article: Article) -> list[SessionType]:
    """Active session types whose slug is one of the article's tags."""
    slugs = [tag.slug for tag in article.tags]
    if not slugs:
        return []
    return list(
        db.session.scalars(
            select(SessionType)
            .where(SessionType.slug.in_(slugs), SessionType.is_active.is_(True))
            .order_by(SessionType.sort_order, SessionType.id)
        )
    )


def book_url(session_type_slug: str) -> str:
    """Where "Book a session" goes for a session type: the one place to switch to `/book`."""
    from flask import url_for

    return url_for("public.start", type=session_type_slug)


# ---- Writing ----------------------------------------------------------------------------------


def _tag_name(slug: str) -> str:
    session_type_name = db.session.scalar(select(SessionType.name).where(SessionType.slug == slug))
    if session_type_name:
        return session_type_name
    return slug.replace("-", " ").capitalize()


def _tags(slugs: Sequence[str]) -> list[Tag]:
    existing = {tag.slug: tag for tag in db.session.scalars(select(Tag).where(Tag.slug.in_(slugs)))}
    tags = []
    for slug in slugs:
        tag = existing.get(slug)
        if tag is None:
            tag = Tag(slug=slug, name=_tag_name(slug))
            db.session.add(tag)
        tags.append(tag)
    return tags


def _content(article: Article) -> tuple[Any, ...]:
    return (
        article.title,
        article.summary,
        article.body,
        tuple(sorted(tag.slug for tag in article.tags)),
        tuple((r["title"], r["url"]) for r in article.references or []),
    )


def _new_content(data: ArticleInput) -> tuple[Any, ...]:
    return (
        data.title,
        data.summary,
        data.body,
        tuple(sorted(data.tags)),
        tuple((r.title, r.url) for r in data.references),
    )


def _apply(article: Article, data: ArticleInput, *, now: datetime) -> bool:
    """Write the content; bump the revision and re-render only if it changed."""
    is_new = article.id is None  # read before any query autoflushes a just-added row
    if not is_new and _content(article) == _new_content(data):
        return False
    article.title = data.title
    article.summary = data.summary
    article.body = data.body
    article.tags = _tags(data.tags)
    article.references = [{"title": r.title, "url": r.url} for r in data.references]
    article.revision = 1 if is_new else article.revision + 1
    article.body_html = render_markdown(data.body)
    article.rendered_revision = article.revision
    article.updated_at = now
    return True


def _slug_taken(slug: str) -> bool:
    return db.session.scalar(select(Article.id).where(Article.slug == slug)) is not None


def create_article(data: ArticleInput, *, slug: str | None, actor: Any, now: datetime) -> Article:
    """A new draft written by `actor` (a practitioner or an admin).

    Raises NotAllowed for other roles and InvalidInput (field `slug`) for a taken or
    unusable web address; a blank slug is made from the title.
    """
    if not can_preview(actor):
        raise NotAllowed("Only practitioners and admins can write articles")
    slug = check_slug(slug or slug_from_title(data.title))
    if _slug_taken(slug):
        raise InvalidInput("An article already uses that web address", field="slug")
    article = Article(
        slug=slug,
        status=ArticleStatus.draft,
        author_id=actor.id,
        created_at=now,
        references=[],
    )
    _apply(article, data, now=now)
    db.session.add(article)
    db.session.flush()
    return article


def update_article(article: Article, data: ArticleInput, *, actor: Any, now: datetime) -> bool:
    """Save new content; True if anything changed (which bumps the revision).

    Raises NotAllowed unless the actor is an admin or the practitioner who wrote the draft.
    """
    if not can_edit(article, actor):
        raise NotAllowed("Only an admin, or the author of a draft, can edit this article")
    changed = _apply(article, data, now=now)
    db.session.flush()
    return changed


def publish_article(article: Article, *, actor: Any, now: datetime) -> bool:
    """Publish a draft, recording the reviewer and review date; False if already published.

    Raises NotAllowed unless the actor is an admin or a reviewing practitioner.
    """
    if not can_publish(actor):
        raise NotAllowed("Only an admin or an article reviewer can publish articles")
    if article.is_published:
        return False
    article.status = ArticleStatus.published
    article.reviewer_id = actor.id
    article.reviewed_at = now
    article.published_at = article.published_at or now
    article.updated_at = now
    db.session.flush()
    return True


# ---- Import ------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did, by slug, and the files that failed with why."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def parse_article_file(text: str) -> tuple[ArticleInput, ArticleStatus]:
    """Split YAML front matter (between `---` lines) from the Markdown body and check both.

    Raises InvalidInput describing the first problem found.
    """
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise InvalidInput("the file must start with a '---' line opening the front matter")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise InvalidInput("the front matter has no closing '---' line") from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" on line {mark.line + 2}" if mark is not None else ""
        raise InvalidInput(f"the front matter is not readable YAML{where}") from None
    if not isinstance(meta, dict):
        raise InvalidInput("the front matter must be a set of 'key: value' lines")
    unknown = sorted(str(key) for key in set(meta) - FRONT_MATTER_KEYS)
    if unknown:
        raise InvalidInput(f"unknown front matter keys: {', '.join(unknown)}")
    status_text = meta.get("status", ArticleStatus.published.value)
    if not isinstance(status_text, str) or status_text not in {s.value for s in ArticleStatus}:
        raise InvalidInput("status must be draft or published")
    data = check_input(
        title=meta.get("title"),
        summary=meta.get("summary"),
        body="\n".join(lines[end + 1 :]),
        tags=meta.get("tags") or (),
        references=meta.get("references") or (),
    )
    return data, ArticleStatus(status_text)


def import_article(slug: str, text: str, *, now: datetime) -> str:
    """Create or update the article at `slug` from a Markdown file's text.

    Returns "created", "updated" or "unchanged"; the revision only moves when the content
    changes. Raises InvalidInput for a bad slug or file.
    """
    check_slug(slug)
    data, status = parse_article_file(text)
    article = db.session.scalar(
        select(Article).options(selectinload(Article.tags)).where(Article.slug == slug)
    )
    outcome = "updated"
    if article is None:
        article = Article(slug=slug, created_at=now, status=status, references=[])
        db.session.add(article)
        outcome = "created"
    changed = _apply(article, data, now=now)
    if article.status != status:
        article.status = status
        article.updated_at = now
        changed = True
    if status == ArticleStatus.published and article.published_at is None:
        article.published_at = now
    db.session.flush()
    if outcome == "updated" and not changed:
        return "unchanged"
    return outcome


def import_articles(directory: Path, *, now: datetime) -> ImportReport:
    """Import every `*.md` file in `directory` (slug = file name), each in its own savepoint.

    A bad file is recorded in `failed` with its name and the others still import.
    Raises InvalidInput if `directory` is not a readable directory.
    """
    if not directory.is_dir():
        raise InvalidInput(f"{directory} is not a directory")
    report = ImportReport()
    for path in sorted(directory.glob("*.md")):
        try:
            if path.stat().st_size > IMPORT_FILE_MAX_BYTES:
                raise InvalidInput("the file is larger than 1 MiB")
            text = path.read_text(encoding="utf-8")
            with db.session.begin_nested():
                outcome = import_article(path.stem, text, now=now)
        except InvalidInput as error:
            report.failed.append((path.name, error.message))
            continue
        except (OSError, UnicodeDecodeError) as error:
            report.failed.append((path.name, f"the file cannot be read as UTF-8 ({error})"))
            continue
        getattr(report, outcome).append(path.stem)
    return report
