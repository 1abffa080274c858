"""The offer link a waiting patient is emailed: book the freed time, or hear it has gone."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from booking import clock
from booking.book.link_limits import email_link_ip_limit, may_send_to_address, register
from booking.domain.errors import InvalidInput, NotFound
from booking.extensions import db
from booking.forms import EmptyForm
from booking.links import base_url
from booking.models import OfferStatus, PatientProfile, Role, WaitlistOffer
from booking.security import guard
from booking.services.waitlist import entries, offers
from booking.waitlist import pages
from booking.waitlist.forms import GuestWaitlistForm, WaitlistForm

bp = Blueprint("waitlist", __name__)
guard(bp, roles=None)  # the token in the link is the key
register(bp)  # guests joining share the emailed-link pages' budgets


def _taken(offer: WaitlistOffer, status: int = 200) -> Any:
    now = clock.utcnow()
    entry = offer.entry
    zone = entry.location.zone
    nearest = [s.starts_at.astimezone(zone) for s in offers.nearest_times(offer, now=now)]
    return render_template(
        "waitlist/offer_taken.html",
        offer=offer,
        entry=entry,
        start=offer.starts_at.astimezone(zone),
        nearest=nearest,
        expired=offer.status == OfferStatus.open,
    ), status


@bp.route("/waitlist/offer/<token>", methods=["GET", "POST"])
def offer(token: str) -> Any:
    """GET shows the offered time and a button; POST books it if it is still free."""
    now = clock.utcnow()
    try:
        found = offers.offer_by_token(token)
    except NotFound:
        abort(404)
    entry = found.entry
    start = found.starts_at.astimezone(entry.location.zone)
    if found.status == OfferStatus.booked and found.appointment_id is not None:
        return render_template("waitlist/offer_booked.html", offer=found, entry=entry, start=start)
    if not offers.is_open(found, now=now):
        return _taken(found, 409 if request.method == "POST" else 200)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            offers.confirm_offer(
                found,
                now=now,
                base_url=base_url(),
                clinic_name=current_app.config["CLINIC_NAME"],
            )
        except offers.OfferGone:
            db.session.commit()  # the offer is marked taken
            return _taken(found, 409)
        db.session.commit()
        return redirect(url_for("waitlist.offer", token=token), 303)
    return render_template(
        "waitlist/offer.html",
        offer=found,
        entry=entry,
        start=start,
        expires=found.expires_at.astimezone(entry.location.zone),
        form=form,
    )


@bp.route("/waitlist/join", methods=["GET", "POST"])
@email_link_ip_limit
def join() -> Any:
    """Join without an account (the "no times" page links here); patients use their own page."""
    if current_user.is_authenticated and current_user.role == Role.patient:
        args: dict[str, Any] = request.args.to_dict()
        return redirect(url_for("patient.waitlist", **args))
    return pages.join_page(
        GuestWaitlistForm(),
        patient=_guest,
        template="waitlist/join.html",
        done_url=url_for("waitlist.joined"),
        source="online",
        announce=False,
    )


def _guest(form: WaitlistForm) -> PatientProfile:
    assert isinstance(form, GuestWaitlistForm)  # noqa: S101 - this page's own form
    if not may_send_to_address():
        raise InvalidInput(
            "This email address has joined the waitlist too many times in the last hour. "
            "Try again later, or phone the clinic.",
            field="email",
        )
    return entries.guest_patient(
        given_name=form.given_name.data or "",
        family_name=form.family_name.data or "",
        email=form.normalised_email,
        now=clock.utcnow(),
    )


@bp.route("/waitlist/joined")
def joined() -> str:
    return render_template("waitlist/joined.html")
