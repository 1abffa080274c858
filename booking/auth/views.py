"""Sign in, sign out, "stay signed in" and changing one's password, for every role."""

from __future__ import annotations

import math
import time
from functools import partial

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.wrappers import Response as FlaskResponse
from flask_limiter import RequestLimit
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from booking import clock
from booking.api.ratelimit import ip_key
from booking.auth.forms import ChangePasswordForm, SignInForm
from booking.auth_session import SESSION_TOKEN_KEY, totp_cipher
from booking.domain.errors import InvalidInput
from booking.errors import status_for, too_many_requests_page
from booking.extensions import db, limiter
from booking.forms import EmptyForm
from booking.models import Role, User
from booking.security import (
    guard,
    is_safe_next,
    password_cost,
    request_id,
    safe_next_or,
)
from booking.services.accounts.password_change import change_password
from booking.services.accounts.passwords import password_minimum
from booking.services.accounts.sessions import end_session
from booking.services.accounts.sessions import sign_out as sign_out_user
from booking.services.accounts.sign_in import sign_in as sign_in_user

bp = Blueprint("auth", __name__)
guard(bp, roles=None)

HOME_ENDPOINTS = {
    Role.patient: "patient.home",
    Role.practitioner: "practitioner.home",
    Role.receptionist: "reception.home",
    Role.admin: "admin.home",
}
SIGN_IN_FAILED = "Enter a correct email address and password"
# Browser-session keys that survive signing in (the booking draft lives server-side under it).
KEPT_SESSION_KEYS = ("booking_key",)
# security.md §3: password POSTs per address, counted in the limiter's shared store.
DEFAULT_AUTH_RATELIMIT_PER_IP = "20/minute"


def _auth_ip_limit() -> str:
    return str(current_app.config.get("AUTH_RATELIMIT_PER_IP", DEFAULT_AUTH_RATELIMIT_PER_IP))


def _too_many(limit: RequestLimit) -> FlaskResponse:
    return too_many_requests_page(max(1, math.ceil(limit.reset_at - time.time())))


# The forms that check a password share one budget per address. Signing out and "stay signed
# in" check none and are not limited: refusing a sign-out would leave a session open.
password_form_limit = limiter.shared_limit(
    _auth_ip_limit, scope="auth-ip", key_func=ip_key, methods=["POST"], on_breach=_too_many
)


@bp.errorhandler(RateLimitExceeded)
def _rate_limited(error: RateLimitExceeded) -> Response:
    if isinstance(error.response, Response):  # the page `_too_many` built
        return error.response
    return too_many_requests_page(60)


def home_url() -> str:
    return url_for(HOME_ENDPOINTS[current_user.role])


def start_browser_session(token: str, user: User | None = None) -> None:
    """A fresh browser session holding this session token; signs `user` in when given."""
    kept = {key: session[key] for key in KEPT_SESSION_KEYS if key in session}
    session.clear()
    session.update(kept)
    session[SESSION_TOKEN_KEY] = token
    if user is not None:
        login_user(user)


@bp.route("/sign-in", methods=["GET", "POST"])
@password_form_limit
def sign_in() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_url())
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        signed_in = sign_in_user(
            form.email.data,
            form.password.data,
            now=clock.utcnow(),
            cost=password_cost(),
            ip_address=request.remote_addr,
        )
        db.session.commit()  # a refusal's failure counter and audit row commit too
        if signed_in is None:
            form.password.errors.append(SIGN_IN_FAILED)
            return render_template("auth/sign_in.html", form=form), 200
        target = form.next.data if is_safe_next(form.next.data) else None
        if signed_in.second_step:
            # The session row signs nobody in until the code (or enrolment): the user loader
            # refuses it, so no page but the second step answers.
            start_browser_session(signed_in.token)
            return redirect(url_for("auth.two_step", next=target or None))
        start_browser_session(signed_in.token, signed_in.user)
        return redirect(target or home_url())
    return render_template("auth/sign_in.html", form=form)


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    EmptyForm().validate_on_submit()  # CSRFProtect has already checked the token
    if current_user.is_authenticated:
        sign_out_user(
            session.get(SESSION_TOKEN_KEY),
            actor=current_user._get_current_object(),
            now=clock.utcnow(),
            ip_address=request.remote_addr,
        )
        db.session.commit()
    elif session.get(SESSION_TOKEN_KEY):  # a sign-in still waiting for its second step
        end_session(session.get(SESSION_TOKEN_KEY), now=clock.utcnow())
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out")
    return redirect(url_for("auth.sign_in"))


@bp.route("/stay-signed-in", methods=["POST"])
def stay_signed_in() -> Response | tuple[str, int]:
    """Reset the idle timer (the user loader already touched the session row)."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    if request.headers.get("Sec-Fetch-Mode") == "cors":
        return "", 204
    return redirect(safe_next_or(home_url()))


@bp.route("/change-password", methods=["GET", "POST"], endpoint="change_password")
@password_form_limit
def change_password_page() -> Response | str | tuple[str, int]:
    # The blueprint is open to anyone (sign-in lives here), so this page checks for itself,
    # as sign-out and stay-signed-in do.
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in", next=url_for("auth.change_password")))
    user = current_user._get_current_object()  # the User row, not the request-bound proxy
    form = ChangePasswordForm(role=user.role, second_factor=user.has_second_factor)
    page = partial(
        render_template,
        "auth/change_password.html",
        form=form,
        minimum=password_minimum(user.role),
        home=home_url(),
    )
    if not form.validate_on_submit():
        return page()
    try:
        token = change_password(
            form.current_password.data,
            form.new_password.data,
            actor=user,
            now=clock.utcnow(),
            cost=password_cost(),
            ip_address=request.remote_addr,
            request_id=request_id(),
            clinic_name=current_app.config["CLINIC_NAME"],
            code=form.code.data if "code" in form else None,
            cipher=totp_cipher(current_app.config),
        )
    except InvalidInput as error:
        field = error.field if error.field in form else "current_password"
        form[field].errors.append(error.message)
        if error.field in ("current_password", "code"):
            # A wrong password or code stays counted against the account (security.md §3):
            # the service wrote nothing else, so that, with its audit row, is what commits.
            db.session.commit()
        else:
            db.session.rollback()
        return page(), status_for(error)
    db.session.commit()
    session[SESSION_TOKEN_KEY] = token
    flash("Your password has been changed")
    return redirect(home_url(), 303)
