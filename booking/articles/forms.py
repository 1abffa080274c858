"""Forms for reading (search) and writing articles."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from booking.forms import FlaskForm, Present
from booking.services.articles.queries import QUERY_MAX
from booking.services.articles.validation import (
    BODY_MAX,
    SLUG_MAX,
    SLUG_PATTERN,
    SUMMARY_MAX,
    TITLE_MAX,
    Reference,
)

TAGS_TEXT_MAX = 1000
REFERENCES_TEXT_MAX = 20_000
REFERENCE_FORMAT = (
    "Enter each reference on its own line as a title, a vertical bar (|) and a link "
    "starting with https://"
)


class SearchForm(FlaskForm):
    """The GET search box on the article list: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(
        "Search articles",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=QUERY_MAX, message=f"Search must be {QUERY_MAX} characters or fewer"),
        ],
    )
    submit = SubmitField("Search", widget=GovSubmitInput())


class ArticleForm(FlaskForm):
    title = StringField(
        "Title",
        widget=GovTextInput(),
        validators=[
            Present("Enter a title"),
            Length(max=TITLE_MAX, message=f"Title must be {TITLE_MAX} characters or fewer"),
        ],
    )
    summary = TextAreaField(
        "Summary",
        description="One or two sentences shown in lists of articles.",
        widget=GovTextArea(),
        validators=[
            Present("Enter a summary"),
            Length(max=SUMMARY_MAX, message=f"Summary must be {SUMMARY_MAX} characters or fewer"),
        ],
    )
    body = TextAreaField(
        "Body",
        description=(
            "Write in Markdown: ## for a heading, - for a list item, [text](https://link) "
            "for a link. HTML is shown as text."
        ),
        widget=GovTextArea(),
        validators=[
            Present("Enter the body of the article"),
            Length(max=BODY_MAX, message=f"Body must be {BODY_MAX:,} characters or fewer"),
        ],
    )
    tags = StringField(
        "Tags (optional)",
        description=(
            "Separate tags with commas, like low-back-pain, first-acupuncture-session. "
            "A session type's tag links the article from booking pages."
        ),
        widget=GovTextInput(),
        validators=[
            Length(max=TAGS_TEXT_MAX, message=f"Tags must be {TAGS_TEXT_MAX} characters or fewer")
        ],
    )
    references = TextAreaField(
        "References (optional)",
        description="One a line: title | https://link",
        widget=GovTextArea(),
        validators=[
            Length(
                max=REFERENCES_TEXT_MAX,
                message=f"References must be {REFERENCES_TEXT_MAX:,} characters or fewer",
            )
        ],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())

    def validate_references(self, field: Any) -> None:
        for line in (field.data or "").splitlines():
            if line.strip() and "|" not in line:
                raise ValidationError(REFERENCE_FORMAT)

    def tag_list(self) -> list[str]:
        return [part for part in (self.tags.data or "").split(",") if part.strip()]

    def reference_list(self) -> list[Reference]:
        references = []
        for line in (self.references.data or "").splitlines():
            if line.strip():
                title, _bar, url = line.rpartition("|")
                references.append(Reference(title=title.strip(), url=url.strip()))
        return references

    def fill(self, title: str, summary: str, body: str, tags: list[str], refs: list[Any]) -> None:
        self.title.data = title
        self.summary.data = summary
        self.body.data = body
        self.tags.data = ", ".join(tags)
        self.references.data = "\n".join(f"{r['title']} | {r['url']}" for r in refs)


class NewArticleForm(ArticleForm):
    slug = StringField(
        "Web address (optional)",
        description=(
            "Lower-case letters, numbers and hyphens, like what-to-expect. "
            "Left empty, it is made from the title."
        ),
        widget=GovTextInput(),
        validators=[
            Length(max=SLUG_MAX, message=f"Web address must be {SLUG_MAX} characters or fewer")
        ],
    )
    submit = SubmitField("Save draft", widget=GovSubmitInput())

    def validate_slug(self, field: Any) -> None:
        if field.data and not SLUG_PATTERN.match(field.data.strip()):
            raise ValidationError(
                "Web address must use only lower-case letters, numbers and single hyphens"
            )
