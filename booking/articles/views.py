"""Educational articles: anyone reads published ones; practitioners and admins write them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.articles.forms import ArticleForm, NewArticleForm, SearchForm
from booking.domain.errors import InvalidInput
from booking.extensions import db
from booking.forms import EmptyForm
from booking.security import guard
from booking.services.articles import editing, permissions, queries, rendering, validation

bp = Blueprint("articles", __name__)
guard(bp, roles=None, staff=("manage", "new", "edit", "publish"))


def book_url(session_type_slug: str) -> str:
    """Where "Book a session" goes for a session type: the one place to switch to `/book`."""
    return url_for("public.start", type=session_type_slug)


@bp.route("/")
def index() -> str:
    form = SearchForm(formdata=request.args)
    tag = queries.get_tag(request.args["tag"]) if request.args.get("tag") else None
    if request.args.get("tag") and tag is None:
        abort(404)
    query = form.q.data if form.validate() else None
    articles = queries.published_articles(tag=tag.slug if tag else None, query=query)
    return render_template(
        "articles/index.html",
        form=form,
        articles=articles,
        tag=tag,
        query=query,
        tags=queries.published_tags(),
    )


@bp.route("/manage")
def manage() -> str:
    return render_template(
        "articles/manage.html",
        articles=queries.all_articles(),
        can_edit=permissions.can_edit,
        actor=current_user,
    )


@bp.route("/new", methods=["GET", "POST"])
def new() -> str | Response:
    form = NewArticleForm()
    if form.validate_on_submit():
        try:
            data = _checked(form)
            article = editing.create_article(
                data, slug=form.slug.data.strip(), actor=current_user, now=clock.utcnow()
            )
        except InvalidInput as error:
            _add_error(form, error)
        else:
            db.session.commit()
            flash("Draft saved")
            return redirect(url_for("articles.show", slug=article.slug))
    return render_template("articles/new.html", form=form)


@bp.route("/<slug>/edit", methods=["GET", "POST"])
def edit(slug: str) -> str | Response:
    article = queries.get_editable_article(slug, actor=current_user)
    form = ArticleForm()
    if request.method == "GET":
        tags = [tag.slug for tag in article.tags]
        form.fill(article.title, article.summary, article.body, tags, article.references)
    elif form.validate_on_submit():
        try:
            editing.update_article(article, _checked(form), actor=current_user, now=clock.utcnow())
        except InvalidInput as error:
            _add_error(form, error)
        else:
            db.session.commit()
            flash("Article saved")
            return redirect(url_for("articles.show", slug=article.slug))
    return render_template("articles/edit.html", form=form, article=article)


@bp.route("/<slug>/publish", methods=["POST"])
def publish(slug: str) -> Response:
    article = queries.get_article(slug, actor=current_user)
    if EmptyForm().validate_on_submit():
        editing.publish_article(article, actor=current_user, now=clock.utcnow())
        db.session.commit()
        flash("Article published")
    return redirect(url_for("articles.show", slug=article.slug))


@bp.route("/<slug>")
def show(slug: str) -> str:
    article = queries.get_article(slug, actor=current_user)
    staff = permissions.can_preview(current_user)
    return render_template(
        "articles/show.html",
        article=article,
        body_html=rendering.article_html(article),
        session_types=queries.session_types_for(article),
        related=queries.related_articles(article),
        staff=staff,
        may_edit=staff and permissions.can_edit(article, current_user),
        may_publish=staff and not article.is_published and permissions.can_publish(current_user),
        publish_form=EmptyForm(),
    )


def _checked(form: ArticleForm) -> validation.ArticleInput:
    return validation.check_input(
        title=form.title.data,
        summary=form.summary.data,
        body=form.body.data,
        tags=form.tag_list(),
        references=form.reference_list(),
    )


def _add_error(form: ArticleForm, error: InvalidInput) -> None:
    field = getattr(form, error.field or "", None) or form.title
    field.errors = [*field.errors, error.message]
