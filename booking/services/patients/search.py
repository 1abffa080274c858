"""Find a patient by name (typo-tolerant), date of birth, email or phone, at 50,000 rows.

A name is searched in two steps, both on indexed columns (`PatientProfile.search_*`,
`sound_*`): rows whose folded given or family name starts with what was typed, then, while
fewer than `limit` were found, the rows sharing a Soundex code, ranked by edit distance in
Python (`booking.domain.patients.search.name_score`). Two words are read as given then
family name or the other way round. Phones are compared in E.164, read with phonenumbers
in the desk's region, whatever the receptionist typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import phonenumbers
from sqlalchemy import and_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from booking.domain.patients.search import SearchQuery, name_score, read_query, soundex
from booking.extensions import db
from booking.models import PatientProfile

SEARCH_LIMIT = 20
# Rows read from Soundex buckets before ranking: bounded, so a common code stays cheap.
CANDIDATES = 1500


@dataclass(frozen=True)
class SearchResult:
    query: SearchQuery
    patients: list[PatientProfile]


def phone_e164(text: str, region: str) -> str | None:
    """A phone number as typed, in E.164; None when it cannot be one."""
    try:
        number = phonenumbers.parse(text.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _starts_with(column: Any, prefix: str) -> ColumnElement[bool]:
    # A range rather than LIKE: both engines use the plain index for it (keys are a-z and
    # spaces only, so the next prefix is the last letter plus one).
    following = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < following)


def _ordered(query: Any, limit: int) -> list[PatientProfile]:
    return list(
        db.session.scalars(
            query.order_by(
                PatientProfile.search_family, PatientProfile.search_given, PatientProfile.id
            ).limit(limit)
        )
    )


def _prefix_matches(tokens: tuple[str, ...], limit: int) -> list[PatientProfile]:
    """Rows whose names start as typed, by family then given name.

    Each reading of the words is its own query walking one index in order with a LIMIT
    (an OR of two ranges makes PostgreSQL sort every row of a common prefix instead).
    """
    given, family = PatientProfile.search_given, PatientProfile.search_family
    if len(tokens) == 1:
        arms = [_starts_with(family, tokens[0]), _starts_with(given, tokens[0])]
    else:
        first, last = tokens[0], tokens[-1]
        arms = [
            and_(_starts_with(family, last), _starts_with(given, first)),
            and_(_starts_with(family, first), _starts_with(given, last)),
        ]
    found: dict[int, PatientProfile] = {}
    for where in arms:
        for patient in _ordered(select(PatientProfile).where(where), limit):
            found.setdefault(patient.id, patient)
    ordered = sorted(found.values(), key=lambda p: (p.search_family, p.search_given, p.id))
    return ordered[:limit]


def _candidate_tiers(tokens: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """Ever wider sets of rows to rank, each on an index: both Soundex codes, either code,
    then the first three letters (a typo that changed the Soundex code)."""
    given, family = PatientProfile.sound_given, PatientProfile.sound_family
    codes = [soundex(token) for token in tokens]
    tiers: list[ColumnElement[bool]] = []
    if len(tokens) > 1:
        first, last = codes[0], codes[-1]
        tiers.append(
            or_(and_(family == last, given == first), and_(family == first, given == last))
        )
    tiers.append(or_(family.in_(codes), given.in_(codes)))
    stems = sorted({token[:3] for token in tokens if len(token) >= 4})
    if stems:
        tiers.append(
            or_(
                *(_starts_with(PatientProfile.search_family, stem) for stem in stems),
                *(_starts_with(PatientProfile.search_given, stem) for stem in stems),
            )
        )
    return tiers


def _name_matches(tokens: tuple[str, ...], limit: int) -> list[PatientProfile]:
    found = _prefix_matches(tokens, limit)
    if len(found) >= limit:
        return found
    seen = {patient.id for patient in found}
    scored: list[tuple[int, str, str, int]] = []
    scores: dict[tuple[str, str], int | None] = {}  # namesakes are ranked once
    columns = select(PatientProfile.id, PatientProfile.search_given, PatientProfile.search_family)
    for where in _candidate_tiers(tokens):
        for row_id, given, family in db.session.execute(columns.where(where).limit(CANDIDATES)):
            if row_id in seen:
                continue
            seen.add(row_id)
            if (given, family) not in scores:
                scores[given, family] = name_score(tokens, given, family)
            score = scores[given, family]
            if score is not None:
                scored.append((score, family, given, row_id))
        if scored or found:  # a wider tier only when nothing at all matched yet
            break
    scored.sort()
    extra_ids = [row_id for *_, row_id in scored[: limit - len(found)]]
    if extra_ids:
        by_id = {
            p.id: p
            for p in db.session.scalars(
                select(PatientProfile).where(PatientProfile.id.in_(extra_ids))
            )
        }
        found += [by_id[row_id] for row_id in extra_ids]
    return found


def search_patients(
    text: str, *, today: date, regions: Sequence[str], limit: int = SEARCH_LIMIT
) -> SearchResult:
    """Patients matching what was typed, best first, at most `limit`. Raises nothing.

    A phone number without its country code is read in each of `regions` (the countries
    of the clinic's locations), so 087 123 4567 finds an Irish number at a Dublin desk.
    """
    query = read_query(text, today=today)
    base = select(PatientProfile)
    if query.kind == "email":
        patients = _ordered(base.where(PatientProfile.search_email == query.text), limit)
    elif query.kind == "date_of_birth":
        patients = _ordered(base.where(PatientProfile.date_of_birth == query.born), limit)
    elif query.kind == "phone":
        numbers = {phone_e164(query.text, region) for region in regions} - {None}
        patients = _ordered(base.where(PatientProfile.phone.in_(sorted(numbers))), limit)
    elif query.kind == "name":
        patients = _name_matches(query.tokens, limit)
    else:
        patients = []
    return SearchResult(query, patients)
