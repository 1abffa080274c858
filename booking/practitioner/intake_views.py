"""Practitioners: their patients' intake and health record (each read audited), paper consent."""

from __future__ import annotations

from typing import Any

from booking.intake import staff
from booking.practitioner.views import bp


@bp.route("/intake/<id:intake_id>")
def intake_detail(intake_id: int) -> Any:
    return staff.intake_page(
        intake_id,
        endpoint="practitioner.intake_detail",
        record_endpoint="practitioner.patient_health",
        reviewable=False,
    )


@bp.route("/patients/<id:patient_id>/health")
def patient_health(patient_id: int) -> str:
    return staff.record_page(
        patient_id,
        intake_endpoint="practitioner.intake_detail",
        consent_endpoint="practitioner.patient_consent",
        book_endpoint="practitioner.book_for",
    )


@bp.route("/patients/<id:patient_id>/consent", methods=["GET", "POST"])
def patient_consent(patient_id: int) -> Any:
    return staff.consent_page(patient_id, record_endpoint="practitioner.patient_health")
