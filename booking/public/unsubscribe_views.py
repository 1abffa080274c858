"""The opt-out link in every reminder: /unsubscribe/<patient>/<token> (GET asks, POST stops)."""

from __future__ import annotations

from flask import current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from booking import clock
from booking.extensions import db
from booking.forms import EmptyForm
from booking.public.views import bp
from booking.services.reminders.unsubscribe import opt_out, patient_for_token


@bp.route("/unsubscribe/<id:patient_id>/<token>", methods=["GET", "POST"])
def unsubscribe(patient_id: int, token: str) -> ResponseReturnValue:
    patient = patient_for_token(patient_id, token, secret=current_app.config["SECRET_KEY"])
    form = EmptyForm()
    if form.validate_on_submit():
        opt_out(patient, now=clock.utcnow())
        db.session.commit()
        return redirect(url_for("public.unsubscribe", patient_id=patient_id, token=token), 303)
    return render_template("public/unsubscribe.html", form=form, opted_out=patient.opted_out)
