"""Reception: the intake review queue, intake reads (audited), reminders, paper consent."""

from __future__ import annotations

from typing import Any

from booking.intake import staff
from booking.reception.views import bp


@bp.route("/intake")
def intake_queue() -> str:
    return staff.queue_page()


@bp.route("/intake/<id:intake_id>", methods=["GET", "POST"])
def intake_detail(intake_id: int) -> Any:
    return staff.intake_page(
        intake_id,
        endpoint="reception.intake_detail",
        record_endpoint="reception.patient_health",
        reviewable=True,
    )


@bp.route("/intake/remind/<id:appointment_id>", methods=["POST"])
def intake_remind(appointment_id: int) -> Any:
    return staff.remind(appointment_id)


@bp.route("/patients/<id:patient_id>/health")
def patient_health(patient_id: int) -> str:
    return staff.record_page(
        patient_id,
        intake_endpoint="reception.intake_detail",
        consent_endpoint="reception.patient_consent",
    )


@bp.route("/patients/<id:patient_id>/consent", methods=["GET", "POST"])
def patient_consent(patient_id: int) -> Any:
    return staff.consent_page(patient_id, record_endpoint="reception.patient_health")
