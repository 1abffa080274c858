"""Acupuncture points in WHO standard notation (WHO Standard Acupuncture Point Locations, 2008).

The 361 standard codes are generated from the fourteen channels' sizes (domain.md §4); the
extra points follow the WHO pattern `EX-<region><n>` (1991 nomenclature: head and neck 15,
chest and abdomen 1, back 9, upper limb 11, lower limb 12). Input is forgiving about case and
separators (`LI 4`, `li4`, `BL-23`, `ex b2`) and accepts the common older channel names as
aliases (SJ/TB for TE, DU for GV, REN for CV, LV/LIV for LR); the stored form is always the
WHO one (`LI 4`, `EX-B2`). An unknown code is refused with the nearest valid code.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from booking.domain.errors import InvalidInput
from booking.domain.patients.search import distance

# Channel code -> number of points, in the standard's order.
CHANNELS: dict[str, int] = {
    "LU": 11,
    "LI": 20,
    "ST": 45,
    "SP": 21,
    "HT": 9,
    "SI": 19,
    "BL": 67,
    "KI": 27,
    "PC": 9,
    "TE": 23,
    "GB": 44,
    "LR": 14,
    "GV": 28,
    "CV": 24,
}
ALIASES = {"SJ": "TE", "TB": "TE", "DU": "GV", "REN": "CV", "LV": "LR", "LIV": "LR"}
MIDLINE = frozenset({"GV", "CV"})  # one point each, no side
EXTRA_REGIONS: dict[str, int] = {"HN": 15, "CA": 1, "B": 9, "UE": 11, "LE": 12}

STANDARD_CODES: tuple[str, ...] = tuple(
    f"{channel} {number}" for channel, size in CHANNELS.items() for number in range(1, size + 1)
)
EXTRA_CODES: tuple[str, ...] = tuple(
    f"EX-{region}{number}"
    for region, size in EXTRA_REGIONS.items()
    for number in range(1, size + 1)
)
ALL_CODES = frozenset(STANDARD_CODES + EXTRA_CODES)

_EXTRA = re.compile(r"^EX[\s.-]*(HN|CA|B|UE|LE)[\s.-]*(\d{1,3})$")
_STANDARD = re.compile(r"^([A-Z]{1,4})[\s.-]*(\d{1,3})$")


class Side(enum.StrEnum):
    left = "left"
    right = "right"
    bilateral = "bilateral"
    midline = "midline"


SIDE_WORDS = {
    "l": Side.left,
    "left": Side.left,
    "r": Side.right,
    "right": Side.right,
    "b": Side.bilateral,
    "bil": Side.bilateral,
    "bilateral": Side.bilateral,
    "both": Side.bilateral,
    "m": Side.midline,
    "midline": Side.midline,
}
SIDE_LABELS = {
    Side.left: "left",
    Side.right: "right",
    Side.bilateral: "bilateral",
    Side.midline: "midline",
}


@dataclass(frozen=True)
class PointUse:
    """One point used in a session: its WHO code and side."""

    code: str
    side: Side

    def as_text(self) -> str:
        return f"{self.code} {SIDE_LABELS[self.side]}"

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "side": self.side.value}


def is_midline(code: str) -> bool:
    return code.split(" ")[0] in MIDLINE


def nearest_code(text: str) -> str:
    """The valid code closest to what was typed: same channel nearest number, else spelling."""
    cleaned = re.sub(r"[\s.-]+", " ", text.strip().upper())
    extra = _EXTRA.match(cleaned)
    if extra:
        region, number = extra.group(1), int(extra.group(2))
        return f"EX-{region}{min(max(number, 1), EXTRA_REGIONS[region])}"
    standard = _STANDARD.match(cleaned.replace(" ", ""))
    if standard:
        channel = ALIASES.get(standard.group(1), standard.group(1))
        if channel in CHANNELS:
            return f"{channel} {min(max(int(standard.group(2)), 1), CHANNELS[channel])}"
    squashed = cleaned.replace(" ", "").replace("-", "")
    # Ties keep the standard's order (min is stable), so the answer never depends on a set.
    return min(
        STANDARD_CODES + EXTRA_CODES,
        key=lambda code: distance(squashed, code.replace(" ", "").replace("-", ""), limit=8),
    )


def parse_code(text: str) -> str:
    """The WHO code of `LI 4`, `li4`, `BL-23`, `ex-b2`; InvalidInput naming the nearest code."""
    cleaned = text.strip().upper()
    if not cleaned:
        raise InvalidInput("Enter a point code, like LI 4.", field="points")
    extra = _EXTRA.match(cleaned)
    if extra:
        code = f"EX-{extra.group(1)}{int(extra.group(2))}"
    else:
        standard = _STANDARD.match(re.sub(r"[\s.-]+", "", cleaned))
        code = ""
        if standard:
            channel = ALIASES.get(standard.group(1), standard.group(1))
            code = f"{channel} {int(standard.group(2))}"
    if code in ALL_CODES:
        return code
    shown = text.strip()[:20]
    raise InvalidInput(
        f"{shown} is not a WHO standard point code. Did you mean {nearest_code(text)}?",
        field="points",
    )


def parse_point(line: str) -> PointUse:
    """One line of the points box: a code then its side, e.g. `LI 4 L`, `ST36 bilateral`.

    Points on the midline (GV, CV) take no side; every other point needs one.
    """
    words = line.strip().split()
    side_word = words[-1].lower() if len(words) > 1 else ""
    side = SIDE_WORDS.get(side_word)
    code_text = " ".join(words[:-1]) if side is not None else line
    code = parse_code(code_text)
    if is_midline(code):
        if side not in (None, Side.midline):
            raise InvalidInput(f"{code} is on the midline: leave out the side.", field="points")
        return PointUse(code, Side.midline)
    if side is None or side == Side.midline:
        raise InvalidInput(
            f"Give the side of {code}: L, R or bilateral (for example “{code} L”).",
            field="points",
        )
    return PointUse(code, side)


def parse_points(text: str) -> list[PointUse]:
    """Every point in the box, one per line or separated by commas; duplicates refused."""
    found: list[PointUse] = []
    for part in re.split(r"[\n,;]+", text):
        if not part.strip():
            continue
        point = parse_point(part)
        if any(p.code == point.code and p.side == point.side for p in found):
            raise InvalidInput(f"{point.as_text()} is listed twice.", field="points")
        found.append(point)
    return found


def points_text(points: list[PointUse]) -> str:
    """The box's text for stored points, one per line (`LI 4 left`)."""
    return "\n".join(point.as_text() for point in points)
