"""Consent per modality: versioned texts, one current consent per patient and modality."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.domain.errors import InvalidInput
from booking.extensions import db
from booking.models import Consent, ConsentMethod, ConsentText, Modality, PatientProfile, User
from booking.services.platform.audit import record_event

MODALITY_LABELS = {
    Modality.needling: "Needling",
    Modality.electro_acupuncture: "Electro-acupuncture",
    Modality.cupping: "Cupping",
    Modality.moxibustion: "Moxibustion",
    Modality.gua_sha: "Gua sha",
}
METHOD_LABELS = {
    ConsentMethod.online: "online",
    ConsentMethod.paper: "on paper",
    ConsentMethod.verbal: "verbally",
}


def modalities_of(session_modalities: str) -> list[Modality]:
    """The known modalities in a session type's comma-separated list; needling when none."""
    known = [
        Modality(name.strip())
        for name in session_modalities.split(",")
        if name.strip() in Modality.__members__
    ]
    return known or [Modality.needling]


def current_text(modality: Modality) -> ConsentText:
    """The latest published text for a modality.

    Raises InvalidInput when none is published (the intake migration publishes version 1).
    """
    text = db.session.scalar(
        select(ConsentText)
        .where(ConsentText.modality == modality)
        .order_by(ConsentText.version.desc())
        .limit(1)
    )
    if text is None:
        raise InvalidInput("There is no consent text for this treatment.")
    return text


def current_consents(patient_id: int) -> dict[Modality, Consent]:
    """The patient's current (not ended) consent per modality."""
    rows = db.session.scalars(
        select(Consent)
        .where(Consent.patient_id == patient_id, Consent.ended_at.is_(None))
        .options(selectinload(Consent.consent_text), selectinload(Consent.recorded_by))
    )
    return {row.modality: row for row in rows}


def _end_current(patient_id: int, modality: Modality, *, now: datetime, withdrawn: bool) -> bool:
    current = current_consents(patient_id).get(modality)
    if current is None:
        return False
    current.ended_at = now
    current.withdrawn = withdrawn
    db.session.flush()  # the partial unique index sees the old row ended before a new one
    return True


def record_consent(
    patient: PatientProfile,
    modality: Modality,
    *,
    method: ConsentMethod,
    actor: User | None,
    now: datetime,
    given_at: datetime | None = None,
    intake_id: int | None = None,
) -> Consent:
    """Record consent to the modality's current text; any earlier consent is ended.

    `actor` is the member of staff recording paper or verbal consent (None online).
    Raises InvalidInput for a given_at in the future.
    """
    when = given_at or now
    if when > now:
        raise InvalidInput("Date consent was given must be today or in the past", field="given_on")
    text = current_text(modality)
    _end_current(patient.id, modality, now=now, withdrawn=False)
    consent = Consent(
        patient_id=patient.id,
        modality=modality,
        consent_text_id=text.id,
        consent_text=text,
        given_at=when,
        method=method,
        recorded_by_id=actor.id if actor is not None else None,
        intake_id=intake_id,
    )
    db.session.add(consent)
    db.session.flush()
    record_event(
        "consent.record",
        actor=actor,
        now=now,
        object_type="consent",
        object_id=consent.id,
        patient_id=patient.id,
        detail=f"{modality.value} v{text.version} {method.value}",
    )
    return consent


def withdraw_consent(
    patient: PatientProfile, modality: Modality, *, actor: User | None, now: datetime
) -> bool:
    """End the current consent for a modality; False when there was none."""
    ended = _end_current(patient.id, modality, now=now, withdrawn=True)
    if ended:
        record_event(
            "consent.withdraw",
            actor=actor,
            now=now,
            object_type="patient",
            object_id=patient.id,
            patient_id=patient.id,
            detail=modality.value,
        )
    return ended
