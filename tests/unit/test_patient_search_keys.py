"""The desk search's pure part: folded names, Soundex, edit distance, reading what was typed."""

from __future__ import annotations

from datetime import date

import pytest

from booking.domain.patients.search import (
    distance,
    name_key,
    name_score,
    read_date,
    read_query,
    soundex,
)

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("O'Brien", "obrien"),
        ("  Siobhán  ", "siobhan"),
        ("Smith-Jones", "smith jones"),
        ("Müller", "muller"),
        ("名前", ""),
    ],
)
def test_name_key_folds_to_lower_case_ascii_letters(name: str, key: str) -> None:
    assert name_key(name) == key


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("robert", "R163"),
        ("rupert", "R163"),
        ("ashcraft", "A261"),  # h does not separate letters with one code
        ("tymczak", "T522"),
        ("smith", "S530"),
        ("smtih", "S530"),
        ("", ""),
    ],
)
def test_soundex(key: str, code: str) -> None:
    assert soundex(key) == code


def test_distance_counts_a_swapped_pair_once_and_stops_early() -> None:
    assert distance("smith", "smith") == 0
    assert distance("smtih", "smith") == 1
    assert distance("smth", "smith") == 1
    assert distance("kitten", "sitting") == 3
    assert distance("a", "abcdefgh", limit=2) == 3


def test_name_score_reads_either_order_and_forgives_by_length() -> None:
    assert name_score(("siobhan", "osulivan"), "siobhan", "osullivan") == 1
    assert name_score(("osullivna", "siobhan"), "siobhan", "osullivan") == 1
    assert name_score(("osul",), "siobhan", "osullivan") == 0  # the start of a name
    assert name_score(("smtih",), "jo", "smith") == 1
    assert name_score(("lee",), "jo", "lei") is None  # short names must be exact
    assert name_score(("jones",), "jo", "smith") is None


@pytest.mark.parametrize(
    ("typed", "born"),
    [
        ("9/7/1984", date(1984, 7, 9)),
        ("09-07-84", date(1984, 7, 9)),
        ("09.07.2001", date(2001, 7, 9)),
        ("1984-07-09", date(1984, 7, 9)),
        ("9 July 1984", date(1984, 7, 9)),
        ("9 jul 1984", date(1984, 7, 9)),
        ("31/02/1984", None),
        ("9 Jolly 1984", None),
    ],
)
def test_read_date(typed: str, born: date | None) -> None:
    assert read_date(typed, today=TODAY) == born


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("", "empty"),
        ("  !!  ", "empty"),
        ("Jo@Example.org", "email"),
        ("12/03/1980", "date_of_birth"),
        ("07700 900982", "phone"),
        ("+44 (0)20 7946 0018", "phone"),
        ("Sam O'Neill", "name"),
        ("12345", "empty"),  # too short for a phone, no letters for a name
    ],
)
def test_read_query(typed: str, kind: str) -> None:
    assert read_query(typed, today=TODAY).kind == kind


def test_a_name_query_keeps_its_words_folded() -> None:
    query = read_query("  Siobhán   O'Sullivan ", today=TODAY)
    assert query.tokens == ("siobhan", "osullivan")
    assert read_query("JO@EXAMPLE.ORG", today=TODAY).text == "jo@example.org"
