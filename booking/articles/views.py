"""Educational articles: anyone reads published ones."""

from __future__ import annotations

from flask import Blueprint, render_template

from booking.security import guard

bp = Blueprint("articles", __name__)
guard(bp, roles=None)


@bp.route("/")
def index() -> str:
    return render_template("articles/index.html", articles=[])
