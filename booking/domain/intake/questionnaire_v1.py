"""Version 1 of the first-visit intake and of the consent texts, as published data.

FROZEN: the migration `20261125_intake` stores a copy of these; answers given to them render
with them for ever. A change is a new version (a new constant and a new data migration), never
an edit. tests/unit/test_intake_rules.py pins a hash of both, and
tests/unit/test_migrations_self_contained.py checks the migration's copy against it.
"""

from __future__ import annotations

from typing import Any

YES_NO = [["yes", "Yes"], ["no", "No"]]
SCALE_HINT_PAIN = "0 means no pain. 10 means pain as bad as you can imagine."
SCALE_HINT_INTERFERE = "0 means it does not interfere. 10 means it completely interferes."


def _red_flag(key: str, label: str, short: str, error: str) -> dict[str, Any]:
    return {
        "key": key,
        "type": "radios",
        "label": label,
        "short": short,
        "options": YES_NO,
        "inline": True,
        "required": True,
        "error": error,
        "red_flag": True,
    }


FIRST_VISIT_INTAKE_V1: dict[str, Any] = {
    "key": "first_visit_intake",
    "version": 1,
    "title": "Health questions",
    "pages": [
        {
            "key": "concern",
            "title": "Your main concern",
            "questions": [
                {
                    "key": "concern",
                    "type": "textarea",
                    "label": "What would you like help with?",
                    "hint": "For example, pain in your lower back when you sit for a long time.",
                    "required": True,
                    "max_length": 1000,
                    "error": "Enter what you would like help with",
                },
                {
                    "key": "body_regions",
                    "type": "checkboxes",
                    "label": "Where in your body is the problem?",
                    "hint": "Select all that apply.",
                    "options": [
                        ["head", "Head or face"],
                        ["neck", "Neck"],
                        ["shoulders", "Shoulders"],
                        ["upper_back", "Upper back"],
                        ["lower_back", "Lower back"],
                        ["arms", "Arms or hands"],
                        ["chest", "Chest or stomach"],
                        ["hips", "Hips"],
                        ["legs", "Legs or knees"],
                        ["feet", "Feet or ankles"],
                        ["whole_body", "All over or hard to say"],
                    ],
                    "required": True,
                    "error": "Select where in your body the problem is",
                },
            ],
        },
        {
            "key": "onset",
            "title": "When did it start?",
            "questions": [
                {
                    "key": "onset",
                    "type": "radios",
                    "label": "When did it start?",
                    "options": [
                        ["under_6_weeks", "Less than 6 weeks ago"],
                        ["6_to_12_weeks", "6 to 12 weeks ago"],
                        ["3_to_12_months", "3 to 12 months ago"],
                        ["over_a_year", "More than a year ago"],
                    ],
                    "required": True,
                    "error": "Select when it started",
                }
            ],
        },
        {
            "key": "pain",
            "title": "How much pain do you have?",
            "questions": [
                {
                    "key": "pain_now",
                    "type": "scale",
                    "label": "How much pain do you have right now?",
                    "hint": SCALE_HINT_PAIN,
                    "required": True,
                    "error": "Select a number from 0 to 10 for your pain right now",
                },
                {
                    "key": "pain_average",
                    "type": "scale",
                    "label": "What number describes your pain on average in the past week?",
                    "hint": SCALE_HINT_PAIN,
                    "required": True,
                    "error": "Select a number from 0 to 10 for your pain on average",
                },
            ],
        },
        {
            "key": "daily_life",
            "title": "How pain affects your life",
            "intro": "Think about the past week.",
            "questions": [
                {
                    "key": "peg_enjoyment",
                    "type": "scale",
                    "label": "How much has pain got in the way of your enjoyment of life?",
                    "hint": SCALE_HINT_INTERFERE,
                    "required": True,
                    "error": "Select a number from 0 to 10 for your enjoyment of life",
                },
                {
                    "key": "peg_activity",
                    "type": "scale",
                    "label": "How much has pain got in the way of your general activity?",
                    "hint": SCALE_HINT_INTERFERE,
                    "required": True,
                    "error": "Select a number from 0 to 10 for your general activity",
                },
            ],
        },
        {
            "key": "warning_signs",
            "title": "Warning signs",
            "intro": "Since your problem started, have you had any of these?",
            "questions": [
                _red_flag(
                    "rf_saddle_numbness",
                    "Numbness around your bottom or genitals",
                    "Saddle numbness",
                    "Select yes if you have numbness around your bottom or genitals",
                ),
                _red_flag(
                    "rf_bladder_bowel",
                    "New problems passing urine or controlling your bowels",
                    "New bladder or bowel problems",
                    "Select yes if you have new problems passing urine or controlling your bowels",
                ),
                _red_flag(
                    "rf_leg_weakness",
                    "Weakness in your legs that is getting worse",
                    "Worsening leg weakness",
                    "Select yes if you have weakness in your legs that is getting worse",
                ),
                _red_flag(
                    "rf_fever",
                    "A fever, or feeling hot and shivery",
                    "Fever",
                    "Select yes if you have had a fever",
                ),
                _red_flag(
                    "rf_weight_loss",
                    "Weight loss you cannot explain",
                    "Unexplained weight loss",
                    "Select yes if you have lost weight you cannot explain",
                ),
                _red_flag(
                    "rf_cancer_history",
                    "Cancer, now or in the past",
                    "History of cancer",
                    "Select yes if you have or have had cancer",
                ),
                _red_flag(
                    "rf_recent_injury",
                    "A recent fall, accident or other serious injury",
                    "Recent significant injury",
                    "Select yes if you have had a recent fall, accident or serious injury",
                ),
            ],
        },
        {
            "key": "medical_history",
            "title": "Your health",
            "questions": [
                {
                    "key": "conditions",
                    "type": "checkboxes",
                    "label": "Do you have any of these conditions?",
                    "hint": "Select all that apply.",
                    "options": [
                        ["diabetes", "Diabetes"],
                        ["epilepsy", "Epilepsy or seizures"],
                        ["heart", "A heart condition"],
                        ["blood_pressure", "High or low blood pressure"],
                        ["stroke", "A stroke"],
                        ["immune", "A weak immune system"],
                        ["none", "None of these"],
                    ],
                    "exclusive": "none",
                    "required": True,
                    "error": "Select any conditions you have, or None of these",
                    "flags": {"epilepsy": "seizure_risk"},
                },
                {
                    "key": "history_details",
                    "type": "textarea",
                    "label": "Anything else about your health we should know? (optional)",
                    "hint": "For example, operations or long-term conditions.",
                    "required": False,
                    "max_length": 1000,
                },
            ],
        },
        {
            "key": "medicines",
            "title": "Your medicines",
            "questions": [
                {
                    "key": "anticoagulants",
                    "type": "radios",
                    "label": "Do you take medicine that thins your blood or stops it clotting?",
                    "hint": (
                        "For example warfarin, apixaban, rivaroxaban, dabigatran, edoxaban, "
                        "clopidogrel or a daily aspirin."
                    ),
                    "options": [["yes", "Yes"], ["no", "No"], ["not_sure", "I'm not sure"]],
                    "required": True,
                    "error": "Select yes if you take medicine that thins your blood",
                    "flags": {"yes": "bleeding_risk", "not_sure": "bleeding_risk"},
                },
                {
                    "key": "medicines",
                    "type": "textarea",
                    "label": "What other medicines do you take? (optional)",
                    "hint": "Include medicines you buy yourself, and herbal remedies.",
                    "required": False,
                    "max_length": 1000,
                },
            ],
        },
        {
            "key": "allergies",
            "title": "Allergies",
            "questions": [
                {
                    "key": "allergies",
                    "type": "checkboxes",
                    "label": "Are you allergic to any of these?",
                    "hint": "Select all that apply.",
                    "options": [
                        ["metal", "Metals, such as nickel"],
                        ["adhesive", "Plasters or adhesive tape"],
                        ["latex", "Latex"],
                        ["medicine", "A medicine"],
                        ["other", "Something else"],
                        ["none", "No allergies"],
                    ],
                    "exclusive": "none",
                    "required": True,
                    "error": "Select your allergies, or No allergies",
                    "flags": {"metal": "metal_allergy", "adhesive": "metal_allergy"},
                },
                {
                    "key": "allergy_details",
                    "type": "text",
                    "label": "Tell us more about your allergies (optional)",
                    "required": False,
                    "max_length": 300,
                },
            ],
        },
        {
            "key": "pregnancy",
            "title": "Are you pregnant or might you be?",
            "questions": [
                {
                    "key": "pregnancy",
                    "type": "radios",
                    "label": "Are you pregnant or might you be?",
                    "hint": "Some points are not used in pregnancy, so we need to know.",
                    "options": [
                        ["yes", "Yes"],
                        ["maybe", "I might be"],
                        ["no", "No"],
                    ],
                    "required": True,
                    "error": "Select yes if you are pregnant or might be",
                    "flags": {"yes": "pregnancy", "maybe": "pregnancy"},
                }
            ],
        },
        {
            "key": "implants",
            "title": "Do you have a pacemaker or another electrical implant?",
            "questions": [
                {
                    "key": "implants",
                    "type": "radios",
                    "label": "Do you have a pacemaker or another electrical implant?",
                    "hint": "For example a defibrillator (ICD), a nerve stimulator or a pump.",
                    "options": YES_NO,
                    "inline": True,
                    "required": True,
                    "error": "Select yes if you have a pacemaker or another electrical implant",
                    "flags": {"yes": "no_electro"},
                }
            ],
        },
        {
            "key": "bleeding",
            "title": "Do you have a bleeding disorder?",
            "questions": [
                {
                    "key": "bleeding_disorder",
                    "type": "radios",
                    "label": "Do you have a bleeding disorder?",
                    "hint": "For example haemophilia, or you bleed or bruise very easily.",
                    "options": YES_NO,
                    "inline": True,
                    "required": True,
                    "error": "Select yes if you have a bleeding disorder",
                    "flags": {"yes": "bleeding_risk"},
                }
            ],
        },
        {
            "key": "needles",
            "title": "Have you ever fainted or felt very anxious with needles?",
            "questions": [
                {
                    "key": "needle_fainting",
                    "type": "radios",
                    "label": "Have you ever fainted or felt very anxious with needles?",
                    "hint": "For example at a blood test or an injection.",
                    "options": YES_NO,
                    "inline": True,
                    "required": True,
                    "error": "Select yes if you have fainted or felt very anxious with needles",
                    "flags": {"yes": "faint_risk"},
                }
            ],
        },
        {
            "key": "skin",
            "title": "Skin problems",
            "questions": [
                {
                    "key": "skin_problem",
                    "type": "radios",
                    "label": "Do you have a skin infection, wound or rash where you need help?",
                    "hint": "For example on your back if your back hurts.",
                    "options": YES_NO,
                    "inline": True,
                    "required": True,
                    "error": "Select yes if you have a skin infection, wound or rash there",
                    "flags": {"yes": "skin_site"},
                },
                {
                    "key": "skin_details",
                    "type": "text",
                    "label": "Where is it? (optional)",
                    "required": False,
                    "max_length": 200,
                },
            ],
        },
        {
            "key": "emergency_contact",
            "title": "Emergency contact",
            "intro": "Who should we call if you feel unwell during a session?",
            "questions": [
                {
                    "key": "ec_name",
                    "type": "text",
                    "label": "Full name",
                    "autocomplete": "off",
                    "required": True,
                    "max_length": 100,
                    "error": "Enter the name of your emergency contact",
                },
                {
                    "key": "ec_phone",
                    "type": "text",
                    "label": "Phone number",
                    "input_type": "tel",
                    "autocomplete": "off",
                    "required": True,
                    "max_length": 30,
                    "error": "Enter a phone number for your emergency contact",
                },
                {
                    "key": "ec_relationship",
                    "type": "text",
                    "label": "How do you know them? (optional)",
                    "hint": "For example partner, parent or friend.",
                    "required": False,
                    "max_length": 50,
                },
            ],
        },
        {
            "key": "gp",
            "title": "Your GP or doctor (optional)",
            "intro": "We only contact your GP if you agree, or in an emergency.",
            "questions": [
                {
                    "key": "gp_name",
                    "type": "text",
                    "label": "Name of your GP or doctor (optional)",
                    "required": False,
                    "max_length": 100,
                },
                {
                    "key": "gp_practice",
                    "type": "text",
                    "label": "Name of their surgery or practice (optional)",
                    "required": False,
                    "max_length": 200,
                },
            ],
        },
    ],
}

CONSENT_TEXTS_V1: dict[str, dict[str, str]] = {
    "needling": {
        "title": "Needling",
        "body": (
            "Your practitioner puts very fine, single-use needles into the skin at chosen "
            "points and leaves them for up to 30 minutes.\n"
            "Common effects are small bruises, soreness where a needle went in, and feeling "
            "tired afterwards. Fainting is rare. Serious problems are very rare.\n"
            "Results vary from person to person. You can ask to stop at any time."
        ),
    },
    "electro_acupuncture": {
        "title": "Electro-acupuncture",
        "body": (
            "A small device passes a gentle electrical current between some of the needles. "
            "You feel tingling or tapping.\n"
            "It is not used if you have a pacemaker or another electrical implant.\n"
            "Common effects are the same as needling. You can ask to stop at any time."
        ),
    },
    "cupping": {
        "title": "Cupping",
        "body": (
            "Your practitioner places glass or plastic cups on the skin and uses suction to "
            "hold them there for a few minutes.\n"
            "Round marks like bruises are common and fade within about 10 days. "
            "You can ask to stop at any time."
        ),
    },
    "moxibustion": {
        "title": "Moxibustion",
        "body": (
            "Your practitioner warms points on the skin with a burning herb called moxa, held "
            "above the skin or on a small stand.\n"
            "It feels warm. Redness is common; a small burn is possible but rare. "
            "Tell your practitioner at once if it feels too hot."
        ),
    },
    "gua_sha": {
        "title": "Gua sha",
        "body": (
            "Your practitioner rubs oiled skin with a smooth tool in firm strokes.\n"
            "Red or purple marks are common and fade within a few days. "
            "You can ask to stop at any time."
        ),
    },
}
