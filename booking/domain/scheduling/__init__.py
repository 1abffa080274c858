"""The scheduling engine: open hours, busy ranges and policies in, bookable slots out.

`availability` computes and checks slots, `hours` validates weekly hours and lists sessions left
outside them, `dst` maps local wall time to UTC, `policy` holds notice and horizon rules,
`assignment` picks the practitioner for a "no preference" booking.
"""
