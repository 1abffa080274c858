"""One place that turns errors into pages or problem+json (architecture.md §6)."""

from __future__ import annotations

from flask import Flask, Response, g, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError
from werkzeug.exceptions import NotFound as NoSuchPath

from booking.domain.errors import (
    DomainError,
    HoldExpired,
    InvalidInput,
    NotAllowed,
    NotFound,
    PolicyRefused,
    SlotTaken,
)
from booking.extensions import db

STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    NotAllowed: 403,
    SlotTaken: 409,
    HoldExpired: 409,
    PolicyRefused: 422,
    InvalidInput: 422,
}

PAGE_TEMPLATES = {400, 403, 404, 405, 409, 413, 422, 429, 500, 503}

TITLES = {
    400: "Bad request",
    401: "Sign in needed",
    403: "You cannot view this page",
    404: "Page not found",
    405: "Method not allowed",
    409: "That time is no longer free",
    413: "What you sent is too large",
    422: "We could not accept that",
    429: "Too many requests",
    500: "Sorry, there is a problem with the service",
    503: "The service is busy",
}


def status_for(error: DomainError) -> int:
    """The HTTP status of a domain error, by its most specific listed class."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 422


def wants_problem_json() -> bool:
    return request.path.startswith("/api/")


def problem(status: int, detail: str, *, title: str | None = None, **extra: object) -> Response:
    """An RFC 9457 problem+json response."""
    from flask import jsonify

    body = {
        "type": "about:blank",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": g.get("request_id"),
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _page(status: int, detail: str | None = None, **context: object) -> tuple[str, int]:
    template = f"errors/{status}.html" if status in PAGE_TEMPLATES else "errors/generic.html"
    return (
        render_template(
            template, status=status, title=TITLES.get(status, "Error"), detail=detail, **context
        ),
        status,
    )


def refusal(status: int, detail: str, **extra: object) -> Response:
    """A refused request in its own kind: problem+json (with `extra`) on the API, else a page."""
    if wants_problem_json():
        return problem(status, detail, title=None, **extra)
    body, code = _page(status, detail)
    return make_response(body, code)


def too_many_requests_page(retry_after: int) -> Response:
    """The 429 page for a rate limit on forms, with Retry-After in seconds."""
    body, status = _page(429, retry_after=retry_after)
    response = make_response(body, status)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _is_lock_timeout(error: Exception) -> bool:
    text = str(getattr(error, "orig", error)).lower()
    return isinstance(error, OperationalError) and (
        "database is locked" in text or "lock timeout" in text or "deadlock" in text
    )


def register(app: Flask) -> None:
    """Install the handlers for domain errors, HTTP errors, CSRF failures and crashes."""

    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> Response | tuple[str, int]:
        db.session.rollback()
        status = status_for(error)
        if wants_problem_json():
            return problem(status, error.message, code=error.code)
        if isinstance(error, SlotTaken):
            return render_template("errors/slot_taken.html", error=error), 409
        return _page(status, error.message)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Response | tuple[str, int]:
        if wants_problem_json():
            return problem(400, "The form could not be checked. Reload the page and try again.")
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(SecurityError)
    def _untrusted_host(_error: SecurityError) -> Response | tuple[str, int, dict[str, str]]:
        # A Host outside TRUSTED_HOSTS: no URL can be built for it, so no page template.
        if wants_problem_json():
            return problem(400, "The Host header names a host this site does not serve.")
        return "Bad request: unknown host.", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response | tuple[str, int]:
        status = error.code or 500
        if wants_problem_json():
            detail = error.description or TITLES.get(status, "Error")
            if isinstance(error, NoSuchPath) and detail == NoSuchPath.description:
                # A path that matches no route, an id out of range included: werkzeug's
                # default text is written for people typing addresses.
                detail = "Nothing exists at this address."
            response = problem(status, detail)
            if status == 405 and error.get_response().headers.get("Allow"):
                response.headers["Allow"] = error.get_response().headers["Allow"]
            return response
        return _page(status)

    @app.errorhandler(Exception)
    def _crash(error: Exception) -> Response | tuple[str, int]:
        if isinstance(error, HTTPException):
            return _http(error)
        db.session.rollback()
        if _is_lock_timeout(error):
            # The database stayed busy past its timeout: a retry will work, so say so.
            app.logger.warning("database busy", exc_info=error)
            if wants_problem_json():
                return problem(503, "The service is busy. Try again in a moment.")
            return _page(503, "The service is busy. Try again in a moment.")
        app.logger.exception("unhandled error", exc_info=error)
        if wants_problem_json():
            return problem(500, "Something went wrong on our side.")
        return _page(InternalServerError.code)
