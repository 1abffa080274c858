"""Importing articles from Markdown files with front matter (`flask import-articles`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.domain.errors import InvalidInput
from booking.extensions import db
from booking.models import Article, ArticleStatus
from booking.services.articles.editing import apply_input
from booking.services.articles.validation import ArticleInput, check_input, check_slug

IMPORT_FILE_MAX_BYTES = 1024 * 1024


FRONT_MATTER_KEYS = frozenset({"title", "summary", "tags", "references", "status"})


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
    changed = apply_input(article, data, now=now)
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
