"""The pure core: scheduling maths, intake rules, the questionnaire and the app-wide errors.

Frozen dataclasses and plain values in, values out; `now` is always an argument. Only the
standard library, `zoneinfo` and `tzdata`: nothing from Flask, SQLAlchemy or the rest of
`booking` (tests/unit/test_layers.py checks it).
"""
