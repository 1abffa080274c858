"""Template fragments kept rendered per worker, by the values they are rendered from.

A fragment is a template that uses nothing but the values passed to it (a test checks each
one), so equal values render equal HTML and a worker may keep it: a busy page renders only
what changed since it was last shown (issue 22: a 100-session day sheet spent a third of its
CPU rendering rows that were the same at each request). Where templates reload when edited
(development), nothing is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import lru_cache

from flask import Flask, current_app, request
from markupsafe import Markup

_KEPT = "meridian.fragments"


def kept(name: str, *, size: int) -> Callable[[Hashable], Markup]:
    """Template `name` as a function of one hashable value, passed to it as `r`, kept per
    worker (an LRU of `size` renderings); for a page that renders it many times."""
    render = _renderer(current_app, name, size, request.script_root)
    return lambda value: Markup(render(value))  # noqa: S704 - autoescaped template output


def _renderer(app: Flask, name: str, size: int, script_root: str) -> Callable[[Hashable], str]:
    # The root links are built under (url_for) is part of what a rendering depends on.
    renderers: dict[tuple[str, str], Callable[[Hashable], str]]
    renderers = app.extensions.setdefault(_KEPT, {})
    found = renderers.get((name, script_root))
    if found is not None:
        return found

    def render(value: Hashable) -> str:
        return app.jinja_env.get_template(name).render(r=value)

    if not app.jinja_env.auto_reload:
        template = app.jinja_env.get_template(name)

        @lru_cache(maxsize=size)
        def render_kept(value: Hashable) -> str:
            return template.render(r=value)

        render = render_kept
    renderers[name, script_root] = render
    return render
