"""`flask --app wsgi import-articles DIR`: good files, bad files by name, idempotency."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import Article, ArticleStatus

DEMO_DIR = Path(__file__).resolve().parents[2] / "booking" / "demo" / "articles"

GOOD = """---
title: Sleep and acupuncture
summary: What research says about sleep.
tags:
  - sleep
  - follow-up-acupuncture
references:
  - title: "A sleep study"
    url: "https://doi.org/10.1000/sleep"
---
## What we know

Results vary.
"""

DRAFT = """---
title: Headaches
summary: A draft about headaches.
status: draft
---
Text.
"""

BAD_FILES = {
    "no-front-matter.md": "# Just Markdown\n",
    "unclosed.md": "---\ntitle: T\nsummary: S\n\nBody\n",
    "broken-yaml.md": "---\ntitle: [unclosed\nsummary: S\n---\nBody\n",
    "no-title.md": "---\nsummary: S\n---\nBody\n",
    "bad-status.md": "---\ntitle: T\nsummary: S\nstatus: live\n---\nBody\n",
    "script-reference.md": (
        "---\ntitle: T\nsummary: S\nreferences:\n"
        "  - title: x\n    url: javascript:alert(1)\n---\nBody\n"
    ),
    "Bad_Name.md": "---\ntitle: T\nsummary: S\n---\nBody\n",
    "typo-key.md": "---\ntitle: T\nsumary: S\n---\nBody\n",
}


def _articles(app: Flask) -> dict[str, Article]:
    with app.app_context():
        rows = db.session.scalars(select(Article)).all()
        for row in rows:
            _ = row.tags  # load before the session closes
        db.session.expunge_all()
        return {row.slug: row for row in rows}


def test_import_creates_published_articles_by_file_name(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "sleep-and-acupuncture.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "headaches.md").write_text(DRAFT, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not an article", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-articles", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "created   sleep-and-acupuncture" in result.output
    articles = _articles(app)
    assert set(articles) == {"sleep-and-acupuncture", "headaches"}
    sleep = articles["sleep-and-acupuncture"]
    assert sleep.status == ArticleStatus.published  # the default
    assert sleep.published_at is not None
    assert sleep.title == "Sleep and acupuncture"
    assert sorted(t.slug for t in sleep.tags) == ["follow-up-acupuncture", "sleep"]
    assert sleep.references == [{"title": "A sleep study", "url": "https://doi.org/10.1000/sleep"}]
    assert ">What we know</h2>" in sleep.body_html
    assert articles["headaches"].status == ArticleStatus.draft


def test_a_bad_file_is_reported_by_name_and_the_others_still_import(
    app: Flask, tmp_path: Path
) -> None:
    (tmp_path / "sleep-and-acupuncture.md").write_text(GOOD, encoding="utf-8")
    for name, text in BAD_FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "latin1.md").write_bytes("---\ntitle: caf\xe9\n---\n".encode("latin-1"))
    result = app.test_cli_runner().invoke(args=["import-articles", str(tmp_path)])
    assert result.exit_code == 1
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed")]
    assert len(failed) == len(BAD_FILES) + 1  # one line per bad file
    for name in [*BAD_FILES, "latin1.md"]:
        assert any(f" {name}: " in line for line in failed), (name, result.stderr)
    assert "typo-key.md: unknown front matter keys: sumary" in result.stderr
    assert set(_articles(app)) == {"sleep-and-acupuncture"}


def test_import_is_idempotent_and_bumps_the_revision_only_on_change(
    app: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "sleep-and-acupuncture.md"
    path.write_text(GOOD, encoding="utf-8")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["import-articles", str(tmp_path)]).exit_code == 0
    again = runner.invoke(args=["import-articles", str(tmp_path)])
    assert again.exit_code == 0
    assert "unchanged sleep-and-acupuncture" in again.output
    first = _articles(app)["sleep-and-acupuncture"]
    assert first.revision == 1
    path.write_text(GOOD.replace("Results vary.", "Results vary a lot."), encoding="utf-8")
    changed = runner.invoke(args=["import-articles", str(tmp_path)])
    assert "updated   sleep-and-acupuncture" in changed.output
    articles = _articles(app)
    assert len(articles) == 1
    updated = articles["sleep-and-acupuncture"]
    assert updated.id == first.id
    assert updated.revision == updated.rendered_revision == 2
    assert "Results vary a lot." in updated.body_html


def test_the_demo_articles_import_cleanly(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["import-articles", str(DEMO_DIR)])
    assert result.exit_code == 0, result.output
    articles = _articles(app)
    assert len(articles) == 5
    for article in articles.values():
        assert article.status == ArticleStatus.published
        assert article.references, article.slug
        assert "results vary" in article.body.lower(), article.slug


def test_a_missing_directory_is_one_line_and_exit_status_2(app: Flask, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(args=["import-articles", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.output
