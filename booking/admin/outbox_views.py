"""Email for admins: the outbox (waiting, sent, failed, cancelled) and the reminder settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from booking import clock
from booking.admin.forms.reminders import ReminderForm
from booking.admin.views import _clinic_or_404, _form, _save, bp
from booking.domain.errors import PolicyRefused
from booking.extensions import db
from booking.forms import EmptyForm
from booking.services.clinic.settings import clinic_zone
from booking.services.platform import outbox
from booking.services.reminders import settings as reminder_settings

STATE_LABELS = {
    "pending": "Waiting",
    "sent": "Sent",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
KIND_LABELS = {
    "reminder.24h": "Reminder, 24 hours before",
    "reminder.2h": "Reminder, 2 hours before",
    "reminder.intake": "Health questions reminder",
    "intake.reminder": "Health questions reminder (sent by reception)",
    "appointment.confirmation": "Booking confirmation",
    "appointment.change": "Session changed",
    "appointment.cancellation": "Session cancelled",
    "appointment.manage_link": "Manage link",
    "plan.booked": "Treatment plan sessions booked",
    "plan.paused": "Treatment plan paused",
    "plan.cancelled": "Treatment plan cancelled",
    "booking.find_you": "Carry on booking link",
    "account.password_changed": "Password changed",
}


@bp.route("/outbox")
def outbox_list() -> str:
    status = request.args.get("status", "pending")
    page = request.args.get("page", 1, type=int)
    listing = outbox.list_messages(status, page=page)
    return render_template(
        "admin/outbox_list.html",
        listing=listing,
        status=status,
        states=STATE_LABELS,
        kinds=KIND_LABELS,
        form=EmptyForm(),
        zone=clinic_zone(),
        max_attempts=outbox.MAX_ATTEMPTS,
    )


def _back(status: str) -> Response:
    status = status if status in STATE_LABELS else "pending"
    return redirect(url_for("admin.outbox_list", status=status), 303)


def _change(change: Callable[..., Any], message_id: int, done: str, status: str) -> Response:
    """Retry or cancel a message (CSRF checked globally), then show the list it moved to.

    A message that changed state meanwhile (sent, or picked up by a sender) is left alone
    and the refusal is shown on the list it is in.
    """
    try:
        change(message_id, now=clock.utcnow())
    except PolicyRefused as error:
        db.session.rollback()
        flash(error.message)
        return _back(request.form.get("from", "pending"))
    db.session.commit()
    flash(done)
    return _back(status)


@bp.route("/outbox/<id:message_id>/retry", methods=["POST"])
def outbox_retry(message_id: int) -> Response:
    return _change(
        outbox.retry_message, message_id, "The message will be sent at the next run", "pending"
    )


@bp.route("/outbox/<id:message_id>/cancel", methods=["POST"])
def outbox_cancel(message_id: int) -> Response:
    return _change(
        outbox.cancel_message,
        message_id,
        "The message was cancelled and will not be sent",
        "cancelled",
    )


def reminder_data() -> dict[str, str]:
    clinic = _clinic_or_404()
    return {
        name: "yes" if getattr(clinic, name) else "no"
        for name in ("reminder_24h", "reminder_2h", "intake_reminder_auto", "reminder_details")
    }


@bp.route("/reminders", methods=["GET", "POST"])
def reminders() -> ResponseReturnValue:
    form = _form(ReminderForm, reminder_data())
    return _save(
        form,
        "admin/reminders.html",
        reminder_settings.update_reminder_settings,
        "Reminder settings saved",
        "admin.home",
    )
