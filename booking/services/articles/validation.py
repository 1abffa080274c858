"""What an article may contain: limits, slugs, tags and references, checked as input."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from booking.domain.errors import InvalidInput

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


# Paths under /articles/ that are pages of their own, so no article may take them as a slug.
RESERVED_SLUGS = frozenset({"manage", "new"})


TITLE_MAX = 200


SUMMARY_MAX = 500


BODY_MAX = 50_000


SLUG_MAX = 100


TAG_MAX = 100


TAGS_MAX = 20


REFERENCES_MAX = 30


REFERENCE_TITLE_MAX = 300


REFERENCE_URL_MAX = 500


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
