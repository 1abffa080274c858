"""The pick-lists of a clinical note: codes as stored, labels as shown (in form order)."""

from __future__ import annotations

TONGUE_COLOURS = {
    "pale": "Pale",
    "pink": "Pink (normal)",
    "red": "Red",
    "crimson": "Dark red",
    "purple": "Purple",
}
TONGUE_COATINGS = {
    "thin_white": "Thin white",
    "thick_white": "Thick white",
    "yellow": "Yellow",
    "greasy": "Greasy",
    "peeled": "Peeled or none",
}
TONGUE_SHAPES = {
    "swollen": "Swollen",
    "thin": "Thin",
    "teeth_marks": "Teeth marks",
    "cracked": "Cracked",
    "stiff": "Stiff or deviated",
}
PULSE_POSITIONS = {
    "left_cun": "Left cun",
    "left_guan": "Left guan",
    "left_chi": "Left chi",
    "right_cun": "Right cun",
    "right_guan": "Right guan",
    "right_chi": "Right chi",
}
PULSE_QUALITIES = {
    "floating": "Floating",
    "deep": "Deep",
    "slow": "Slow",
    "rapid": "Rapid",
    "wiry": "Wiry",
    "slippery": "Slippery",
    "choppy": "Choppy",
    "thready": "Thready",
    "weak": "Weak",
    "full": "Full",
}
PATTERNS = {
    "qi_stagnation": "Qi stagnation",
    "blood_stasis": "Blood stasis",
    "qi_deficiency": "Qi deficiency",
    "blood_deficiency": "Blood deficiency",
    "yin_deficiency": "Yin deficiency",
    "yang_deficiency": "Yang deficiency",
    "damp": "Damp",
    "heat": "Heat",
    "cold": "Cold",
    "wind": "Wind",
}
