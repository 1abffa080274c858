"""Sign in, sign out and "stay signed in" for every role."""

from __future__ import annotations

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
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from booking.auth.forms import SignInForm
from booking.clock import utcnow
from booking.extensions import db
from booking.forms import EmptyForm
from booking.models import Role
from booking.security import (
    SESSION_TOKEN_KEY,
    guard,
    is_safe_next,
    password_cost,
    safe_next_or,
)
from booking.services.audit import record_event
from booking.services.users import authenticate, end_session, start_session

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


def home_url() -> str:
    return url_for(HOME_ENDPOINTS[current_user.role])


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_url())
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        now = utcnow()
        user = authenticate(form.email.data, form.password.data, cost=password_cost())
        if user is None:
            form.password.errors.append(SIGN_IN_FAILED)
            record_event("auth.sign_in_failed", actor=None, now=now, ip_address=request.remote_addr)
            db.session.commit()
            return render_template("auth/sign_in.html", form=form), 200
        kept = {key: session[key] for key in KEPT_SESSION_KEYS if key in session}
        session.clear()
        session.update(kept)
        token = start_session(user, now=now, ip_address=request.remote_addr)
        record_event("auth.sign_in", actor=user, now=now, ip_address=request.remote_addr)
        db.session.commit()
        session[SESSION_TOKEN_KEY] = token
        login_user(user)
        target = form.next.data if is_safe_next(form.next.data) else home_url()
        return redirect(target)
    return render_template("auth/sign_in.html", form=form)


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    EmptyForm().validate_on_submit()  # CSRFProtect has already checked the token
    if current_user.is_authenticated:
        now = utcnow()
        end_session(session.get(SESSION_TOKEN_KEY), now=now)
        record_event("auth.sign_out", actor=current_user, now=now, ip_address=request.remote_addr)
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


@bp.app_context_processor
def _sign_out_form() -> dict[str, object]:
    return {"sign_out_form": EmptyForm, "clinic_name": current_app.config["CLINIC_NAME"]}
