"""Forgot your password, a guest's own account, and accepting a staff invitation (issue 19).

Each emailed link opens a form (GET changes nothing); saving the form spends the link.
Every link that is not live (used, expired, replaced, tampered) answers one page, 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.auth.forms import CreateAccountForm, ForgotPasswordForm, NewPasswordForm
from booking.auth.views import bp, home_url, start_browser_session
from booking.book.link_limits import email_link_ip_limit, may_send_to_address, register
from booking.domain.errors import InvalidInput, NotFound
from booking.errors import status_for
from booking.extensions import db
from booking.links import base_url, external_url
from booking.models import Role
from booking.security import password_cost, request_id
from booking.services.accounts import reset, sign_up, staff
from booking.services.accounts.passwords import password_minimum
from booking.services.accounts.sign_in import SignedIn
from booking.services.clinic.settings import clinic_today
from booking.services.platform.tokens import new_token

register(bp)  # the per-address budget of the two pages that email a link on request


def _emailed_link(endpoint: str) -> reset.EmailedLink:
    token = new_token()
    return reset.EmailedLink(token, external_url(endpoint, base=base_url(), token=token))


def link_gone() -> tuple[str, int]:
    """The one answer for a link that is not live, whatever the reason."""
    db.session.rollback()
    return render_template("auth/link_gone.html"), 404


# ---- Forgot your password -------------------------------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
@email_link_ip_limit
def forgot_password() -> Response | str:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        reset.request_reset(
            form.normalised_email,
            _emailed_link("auth.reset_password"),
            now=clock.utcnow(),
            clinic_name=current_app.config["CLINIC_NAME"],
            send=may_send_to_address(),
        )
        db.session.commit()
        return redirect(url_for("auth.link_sent", purpose="reset"), 303)
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/link-sent/<any(reset, account):purpose>")
def link_sent(purpose: str) -> str:
    return render_template("auth/link_sent.html", purpose=purpose)


def _new_password_page(
    token: str,
    find: Callable[..., Any],
    save: Callable[..., SignedIn],
    *,
    template: str,
    banner: str,
) -> Response | str | tuple[str, int]:
    """The form on an emailed link: GET shows it, a valid POST spends the link and signs in
    (staff who need a second factor go on to it, as after a password sign-in)."""
    now = clock.utcnow()
    try:
        link = find(token, now=now)
    except NotFound:
        return link_gone()
    role = link.user.role if link.user is not None else Role.patient
    form = NewPasswordForm(role=role)
    context = {"form": form, "link": link, "minimum": password_minimum(role)}
    if not form.validate_on_submit():
        return render_template(template, **context)
    try:
        signed_in = save(token, form.new_password.data, now=now)
    except NotFound:
        return link_gone()
    except InvalidInput as error:
        db.session.rollback()
        form.new_password.errors.append(error.message)
        return render_template(template, **context), status_for(error)
    db.session.commit()
    # A fresh browser session (the old one is cleared), then the banner into it.
    if signed_in.second_step:  # staff owe their code (or enrolment) first, as at sign-in
        start_browser_session(signed_in.token)
        flash(banner)
        return redirect(url_for("auth.two_step"), 303)
    start_browser_session(signed_in.token, signed_in.user)
    flash(banner)
    return redirect(home_url(), 303)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | str | tuple[str, int]:
    save = partial(
        reset.reset_password,
        cost=password_cost(),
        ip_address=request.remote_addr,
        request_id=request_id(),
        clinic_name=current_app.config["CLINIC_NAME"],
    )
    return _new_password_page(
        token,
        reset.reset_link,
        save,
        template="auth/reset_password.html",
        banner="Your password has been changed. You have been signed out everywhere else.",
    )


# ---- A guest's own account --------------------------------------------------------------


@bp.route("/create-account", methods=["GET", "POST"])
@email_link_ip_limit
def create_account() -> Response | str:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_url())
    now = clock.utcnow()
    form = CreateAccountForm(today=clinic_today(now))
    if form.validate_on_submit() and form.date_of_birth is not None:
        sign_up.request_sign_up(
            form.normalised_email,
            form.date_of_birth,
            _emailed_link("auth.create_account_link"),
            sign_in_url=external_url("auth.sign_in", base=base_url()),
            now=now,
            clinic_name=current_app.config["CLINIC_NAME"],
            send=may_send_to_address(),
        )
        db.session.commit()
        return redirect(url_for("auth.link_sent", purpose="account"), 303)
    return render_template("auth/create_account.html", form=form)


@bp.route("/create-account/<token>", methods=["GET", "POST"])
def create_account_link(token: str) -> Response | str | tuple[str, int]:
    save = partial(sign_up.create_account, cost=password_cost(), ip_address=request.remote_addr)
    return _new_password_page(
        token,
        sign_up.sign_up_link,
        save,
        template="auth/create_account_password.html",
        banner="Your account has been created",
    )


# ---- A staff invitation -----------------------------------------------------------------


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Response | str | tuple[str, int]:
    save = partial(staff.accept, cost=password_cost(), ip_address=request.remote_addr)
    return _new_password_page(
        token,
        staff.invitation_link,
        save,
        template="auth/invitation.html",
        banner="Your password has been saved and you are signed in",
    )
