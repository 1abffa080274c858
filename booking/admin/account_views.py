"""Staff accounts for admins: invite, resend or revoke an invitation, disable, re-enable."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.admin.forms.accounts import InviteForm
from booking.admin.views import bp
from booking.domain.errors import DomainError, NotFound
from booking.errors import status_for
from booking.extensions import db
from booking.forms import EmptyForm
from booking.links import base_url, external_url
from booking.services.accounts import staff
from booking.services.accounts.reset import EmailedLink
from booking.services.platform.tokens import new_token


def invitation_link() -> EmailedLink:
    token = new_token()
    return EmailedLink(token, external_url("auth.invitation", base=base_url(), token=token))


@bp.route("/accounts")
def accounts() -> str:
    return render_template(
        "admin/accounts.html",
        rows=staff.staff_rows(now=clock.utcnow()),
        form=EmptyForm(),
        me=current_user.id,
    )


@bp.route("/accounts/invite", methods=["GET", "POST"])
def account_invite() -> ResponseReturnValue:
    form = InviteForm()
    if form.validate_on_submit():
        try:
            user = staff.invite(
                form.values(),
                invitation_link(),
                actor=current_user._get_current_object(),
                now=clock.utcnow(),
                clinic_name=current_app.config["CLINIC_NAME"],
            )
        except DomainError as error:
            db.session.rollback()
            field = getattr(form, getattr(error, "field", None) or "", None) or form.display_name
            field.errors = [*field.errors, error.message]
            return render_template("admin/account_invite.html", form=form), status_for(error)
        db.session.commit()
        flash(f"Invitation sent to {user.display_name}")
        return redirect(url_for("admin.accounts"), 303)
    return render_template("admin/account_invite.html", form=form)


def _act(user_id: int, action: str) -> Response:
    """One POST button of the accounts table: do it, commit, say so, back to the table."""
    EmptyForm().validate_on_submit()  # CSRFProtect has already checked the token
    actor = current_user._get_current_object()
    now = clock.utcnow()
    clinic = current_app.config["CLINIC_NAME"]
    try:
        if action == "resend":
            user = staff.resend(
                user_id, invitation_link(), actor=actor, now=now, clinic_name=clinic
            )
            banner = f"A new invitation has been sent to {user.display_name}"
        elif action == "revoke":
            user = staff.revoke(user_id, actor=actor, now=now)
            banner = f"The invitation to {user.display_name} no longer works"
        else:
            user = staff.set_enabled(user_id, action == "enable", actor=actor, now=now)
            banner = f"{user.display_name} can {'' if user.is_enabled else 'no longer '}sign in"
    except NotFound:
        db.session.rollback()
        raise
    except DomainError as error:
        db.session.rollback()
        flash(error.message)
        return redirect(url_for("admin.accounts"), 303)
    db.session.commit()
    flash(banner)
    return redirect(url_for("admin.accounts"), 303)


@bp.route("/accounts/<id:user_id>/resend", methods=["POST"])
def account_resend(user_id: int) -> Response:
    return _act(user_id, "resend")


@bp.route("/accounts/<id:user_id>/revoke", methods=["POST"])
def account_revoke(user_id: int) -> Response:
    return _act(user_id, "revoke")


@bp.route("/accounts/<id:user_id>/disable", methods=["POST"])
def account_disable(user_id: int) -> Response:
    return _act(user_id, "disable")


@bp.route("/accounts/<id:user_id>/enable", methods=["POST"])
def account_enable(user_id: int) -> Response:
    return _act(user_id, "enable")
