"""A practitioner books a patient they treat on their own calendar (domain.md §6): the desk's
pages (`booking.desk.booking_pages`), scoped to the signed-in practitioner."""

from __future__ import annotations

from werkzeug.wrappers import Response

from booking.desk import booking_pages
from booking.practitioner.views import bp


@bp.route("/patients/<id:patient_id>/book")
def book_for(patient_id: int) -> str:
    return booking_pages.choose_page(patient_id, prefix="practitioner")


@bp.route("/patients/<id:patient_id>/book/hold", methods=["POST"])
def book_hold(patient_id: int) -> Response:
    return booking_pages.hold(patient_id, prefix="practitioner")


@bp.route("/patients/<id:patient_id>/book/confirm", methods=["GET", "POST"])
def book_confirm(patient_id: int) -> Response | str:
    return booking_pages.confirm_page(patient_id, prefix="practitioner")
