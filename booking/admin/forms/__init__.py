"""The admin's forms, one module per set-up page; shared fields are in `booking.forms.fields`.

The hours and time-off forms also serve the practitioner's own pages.
"""
