"""Staff two-step sign-in: the code after the password, and setting up an authenticator.

Both pages serve a browser whose session still waits for its second step (the user loader
signs it in as nobody); setting up also serves signed-in staff who have no second factor.
"""

from __future__ import annotations

import segno
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.auth.forms import TwoStepForm, TwoStepSetupForm
from booking.auth.views import bp, home_url, password_form_limit, start_browser_session
from booking.auth_session import SESSION_TOKEN_KEY, session_limits, totp_cipher
from booking.db_hooks import write_unit
from booking.domain.errors import InvalidInput
from booking.errors import status_for
from booking.extensions import db
from booking.models import User
from booking.security import is_safe_next, request_id
from booking.services.accounts import mfa


def _pending() -> User | None:
    return mfa.pending_user(
        session.get(SESSION_TOKEN_KEY),
        now=clock.utcnow(),
        idle=session_limits(current_app.config).staff_idle,
    )


def _next_arg() -> str | None:
    target = request.values.get("next")
    return target if target and is_safe_next(target) else None


@bp.route("/two-step", methods=["GET", "POST"])
@password_form_limit
def two_step() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(home_url())
    user = _pending()
    if user is None:
        return redirect(url_for("auth.sign_in"))
    if not user.has_second_factor:
        return redirect(url_for("auth.two_step_setup", next=_next_arg()))
    form = TwoStepForm()
    if request.method == "GET":
        form.next.data = _next_arg() or ""
    if not form.validate_on_submit():
        return render_template("auth/two_step.html", form=form)
    try:
        used = mfa.check_second_factor(
            user,
            form.code.data,
            cipher=totp_cipher(current_app.config),
            now=clock.utcnow(),
            ip_address=request.remote_addr,
            request_id=request_id(),
        )
    except InvalidInput as error:
        db.session.commit()  # the refusal's audit row counts towards the lock-out
        form.code.errors.append(error.message)
        return render_template("auth/two_step.html", form=form), status_for(error)
    token = mfa.finish_second_step(
        user, session.get(SESSION_TOKEN_KEY), now=clock.utcnow(), ip_address=request.remote_addr
    )
    db.session.commit()
    start_browser_session(token, user)
    if used == "recovery":
        left = mfa.remaining_recovery_codes(user.id)
        flash(f"You used a recovery code. You have {left} left.")
    return redirect(_next_arg() or home_url())


def _enrolling_user() -> tuple[User, bool]:
    """The staff user setting up a second factor, and whether their session is pending."""
    if current_user.is_authenticated:
        if not current_user.is_staff:
            abort(404)
        return current_user._get_current_object(), False
    user = _pending()
    if user is None:
        abort(redirect(url_for("auth.sign_in")))
    return user, True


def _qr_svg(secret: str, email: str) -> str:
    uri = mfa.provisioning_uri(secret, email=email, issuer=current_app.config["CLINIC_NAME"])
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, title="QR code for your authenticator app", dark="#0b0c0c", light="#ffffff"
    )
    return svg.replace("<svg ", '<svg role="img" focusable="false" ', 1)


def _setup_page(user: User, secret: str, form: TwoStepSetupForm, pending: bool) -> str:
    return render_template(
        "auth/two_step_setup.html",
        form=form,
        qr_svg=_qr_svg(secret, user.email),
        secret_groups=[secret[i : i + 4] for i in range(0, len(secret), 4)],
        pending=pending,
        home=None if pending else home_url(),
    )


@bp.route("/two-step/set-up", methods=["GET", "POST"])
@password_form_limit
def two_step_setup() -> Response | str | tuple[str, int]:
    user, pending = _enrolling_user()
    if user.has_second_factor:
        if pending:
            return redirect(url_for("auth.two_step", next=_next_arg()))
        flash("Two-step verification is already turned on")
        return redirect(home_url())
    cipher = totp_cipher(current_app.config)
    form = TwoStepSetupForm()
    if request.method == "GET":
        form.next.data = _next_arg() or ""
        with write_unit() as unit:  # the pending secret, kept until it is confirmed
            own = unit.get(User, user.id) or abort(404)
            secret = mfa.enrolment_secret(own, cipher=cipher)
        return _setup_page(user, secret, form, pending)
    secret = mfa.enrolment_secret(user, cipher=cipher)
    if not form.validate_on_submit():
        db.session.commit()
        return _setup_page(user, secret, form, pending)
    try:
        codes = mfa.confirm_enrolment(
            user,
            form.code.data,
            cipher=cipher,
            now=clock.utcnow(),
            ip_address=request.remote_addr,
            request_id=request_id(),
        )
    except InvalidInput as error:
        db.session.commit()  # keeps the pending secret the page shows
        form.code.errors.append(error.message)
        return _setup_page(user, secret, form, pending), status_for(error)
    if pending:
        token = mfa.finish_second_step(
            user, session.get(SESSION_TOKEN_KEY), now=clock.utcnow(), ip_address=request.remote_addr
        )
        db.session.commit()
        start_browser_session(token, user)
    else:
        db.session.commit()
    return render_template(
        "auth/two_step_codes.html", codes=codes, continue_url=_next_arg() or home_url()
    )
