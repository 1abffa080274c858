"""Finding a patient at the desk: normalised name keys, Soundex, edit distance, query reading.

Names are stored twice more for search: folded to lower-case ASCII letters (`name_key`) and
as a Soundex code (`soundex`). A name search takes the rows whose key starts with what was
typed, then the small set of rows sharing a Soundex code, ranked by edit distance
(`distance`, optimal string alignment: a swapped pair of letters counts once).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from booking.domain.formatting import MONTHS

_NOT_LETTER = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")
_SOUNDEX_CODES = {
    **dict.fromkeys("bfpv", "1"),
    **dict.fromkeys("cgjkqsxz", "2"),
    **dict.fromkeys("dt", "3"),
    "l": "4",
    **dict.fromkeys("mn", "5"),
    "r": "6",
}
KEY_MAX = 100
_NUMERIC_DATE = re.compile(r"(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{2}|\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_WORD_DATE = re.compile(r"(\d{1,2})\s+([a-z]+)\.?\s+(\d{4})")
_PHONE = re.compile(r"\+?[\d\s().\-]+")


def name_key(name: str) -> str:
    """A name folded for search: lower-case ASCII letters, single spaces ("O'Brien" → "obrien")."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    folded = folded.lower().replace("-", " ")
    letters = _NOT_LETTER.sub("", folded)
    return _SPACES.sub(" ", letters).strip()[:KEY_MAX]


def soundex(key: str) -> str:
    """American Soundex of a folded name ("" for none): the first letter and three digits."""
    letters = key.replace(" ", "")
    if not letters:
        return ""
    first = letters[0]
    digits: list[str] = []
    previous = _SOUNDEX_CODES.get(first, "")
    for letter in letters[1:]:
        code = _SOUNDEX_CODES.get(letter, "")
        if code and code != previous:
            digits.append(code)
        if letter not in "hw":  # h and w do not separate letters with the same code
            previous = code
    return (first.upper() + "".join(digits) + "000")[:4]


def distance(a: str, b: str, *, limit: int = 3) -> int:
    """Optimal-string-alignment edit distance, capped at `limit` + 1 (enough to reject)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return min(row[-1], limit + 1)


def allowed_typos(token: str) -> int:
    """Typos forgiven in a name of this length: none under 4 letters, 2 from 7."""
    if len(token) < 4:
        return 0
    return 1 if len(token) < 7 else 2


def name_score(tokens: tuple[str, ...], given: str, family: str) -> int | None:
    """Typos between the typed name and a patient's, or None when too far apart.

    One word matches either name (or its start); more words are read as given then family
    name, or the other way round.
    """
    if not tokens:
        return None

    def one(token: str, name: str) -> int | None:
        allowed = allowed_typos(token)
        best = distance(token, name, limit=allowed)
        if best > allowed and len(name) > len(token):  # or the start of a longer name
            best = distance(token, name[: len(token)], limit=allowed)
        return best if best <= allowed else None

    if len(tokens) == 1:
        scores = [s for s in (one(tokens[0], family), one(tokens[0], given)) if s is not None]
        return min(scores) if scores else None
    first, last = tokens[0], tokens[-1]
    pairs = []
    for g, f in ((first, last), (last, first)):
        sg, sf = one(g, given), one(f, family)
        if sg is not None and sf is not None:
            pairs.append(sg + sf)
    return min(pairs) if pairs else None


@dataclass(frozen=True)
class SearchQuery:
    """What a receptionist typed, read as one kind of search."""

    kind: str  # "name" | "date_of_birth" | "email" | "phone" | "empty"
    text: str
    tokens: tuple[str, ...] = ()
    born: date | None = None


def _year(text: str, today: date) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year <= today.year % 100 else 1900
    return year


def read_date(text: str, *, today: date) -> date | None:
    """A date typed as 12/03/1980, 12-3-80, 1980-03-12 or 12 March 1980 (day first)."""
    text = text.strip().lower()
    try:
        if match := _ISO_DATE.fullmatch(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _NUMERIC_DATE.fullmatch(text):
            return date(_year(match[3], today), int(match[2]), int(match[1]))
        if (match := _WORD_DATE.fullmatch(text)) and match[2] in MONTHS:
            return date(int(match[3]), MONTHS[match[2]], int(match[1]))
    except ValueError:
        return None
    return None


def read_query(text: str, *, today: date) -> SearchQuery:
    """Read a search box: an email (has @), a date of birth, a phone number, else a name."""
    text = text.strip()
    if not text:
        return SearchQuery("empty", text)
    if "@" in text:
        return SearchQuery("email", text.lower())
    born = read_date(text, today=today)
    if born is not None:
        return SearchQuery("date_of_birth", text, born=born)
    if _PHONE.fullmatch(text) and sum(c.isdigit() for c in text) >= 6:
        return SearchQuery("phone", text)
    key = name_key(text)
    if not key:
        return SearchQuery("empty", text)
    return SearchQuery("name", text, tokens=tuple(key.split(" ")))
