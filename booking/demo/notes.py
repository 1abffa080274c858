"""The demo's clinical notes (issue 16): a signed note for each completed session, one draft
(Mei Lin Chen's latest), one addendum (under her earliest), and one note recording fainting so
reception's follow-up list has a line from a note.

Written through the notes services as the session's practitioner, shortly after each session.
A patient without a current consent for the session's treatments gets one recorded on paper
by the practitioner first, as a clinic would before treating. No electro-acupuncture, so the
demo's `no_electro` patient never meets it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from booking.demo.context import DemoContext
from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, ConsentMethod, Modality
from booking.services.intake.consent import current_consents, modalities_of, record_consent
from booking.services.notes.writing import add_addendum, save_draft, sign

AFTER = timedelta(minutes=10)  # written this long after the session ends
VARIANTS: tuple[dict[str, Any], ...] = (
    {
        "chief_complaint": "Lower back pain, worse after sitting at work.",
        "pain_score": 6,
        "response": "Eased for two days after the last session.",
        "tongue_colour": "pale",
        "tongue_coating": "thin_white",
        "pulse_qualities": "deep,weak",
        "patterns": "qi_deficiency,blood_stasis",
        "pattern_text": "Kidney qi deficiency with local stagnation.",
        "plan": "Weekly for four weeks, then review.",
        "points": [("BL 23", "bilateral"), ("BL 40", "bilateral"), ("GV 4", "midline")],
        "needles": 5,
    },
    {
        "chief_complaint": "Tension headaches three times a week.",
        "pain_score": 4,
        "response": "Fewer headaches this week.",
        "tongue_colour": "red",
        "tongue_coating": "yellow",
        "pulse_qualities": "wiry,rapid",
        "patterns": "qi_stagnation,heat",
        "pattern_text": "Liver qi stagnation rising.",
        "plan": "Fortnightly; neck stretches at home.",
        "points": [
            ("LI 4", "bilateral"),
            ("LR 3", "bilateral"),
            ("GB 20", "bilateral"),
            ("EX-HN3", "midline"),
        ],
        "needles": 7,
    },
    {
        "chief_complaint": "Knee pain on stairs.",
        "pain_score": 5,
        "response": "No change yet.",
        "tongue_colour": "pink",
        "tongue_coating": "greasy",
        "pulse_qualities": "slippery",
        "patterns": "damp",
        "pattern_text": "Damp obstruction of the knee.",
        "plan": "Weekly for three weeks.",
        "points": [("ST 35", "left"), ("EX-LE5", "left"), ("SP 9", "left"), ("ST 36", "left")],
        "needles": 4,
    },
)


def _treatments(appointment: Appointment) -> list[Modality]:
    return modalities_of(appointment.session_type.modalities)


def _values(appointment: Appointment, variant: dict[str, Any]) -> dict[str, Any]:
    modalities = _treatments(appointment)
    needles = variant["needles"] if Modality.needling in modalities else None
    values = {k: v for k, v in variant.items() if k not in ("points", "needles")}
    values.update(
        modalities=",".join(m.value for m in modalities),
        points=[{"code": code, "side": side} for code, side in variant["points"]]
        if needles
        else [],
        needles_in=needles,
        needles_out=needles,
    )
    return values


def seed_notes(context: DemoContext) -> int:
    """Notes for the completed sessions (plans' included); returns how many were written."""
    done = list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.status == AppointmentStatus.completed,
                Appointment.ends_at <= context.now,
            )
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )
    if not done:
        return 0
    mei = context.practitioners["mei.chen"].id
    mine = [row for row in done if row.practitioner_id == mei] or done
    draft, amended = mine[-1], mine[0]
    fainted = done[len(done) // 2] if len(done) > 2 else None
    for index, row in enumerate(done):
        author = row.practitioner.user
        written = row.ends_at + AFTER
        assert row.patient is not None  # noqa: S101 - a completed session has a patient
        consents = current_consents(row.patient_id or 0)
        for modality in _treatments(row):
            if modality not in consents:
                record_consent(
                    row.patient,
                    modality,
                    method=ConsentMethod.paper,
                    actor=author,
                    now=row.starts_at - AFTER,
                )
        values = _values(row, VARIANTS[index % len(VARIANTS)])
        if row is fainted:
            values.update(
                adverse_events="fainting",
                adverse_detail="Felt faint after 10 minutes; needles out, lay flat, "
                "recovered within 5 minutes.",
            )
        note = save_draft(row, values, actor=author, now=written).note
        if row is draft:
            continue
        sign(note, actor=author, now=written)
        if row is amended:
            add_addendum(
                note,
                "Patient phoned the next day: back pain eased, slept well.",
                actor=author,
                now=written + timedelta(days=1),
            )
    return len(done)
