"""Pages staff share to book on a patient's behalf: the front desk and practitioners.

Like `booking.intake.staff`, the routes live in each blueprint (`reception/book_views.py`,
`practitioner/book_views.py`) so each keeps its own guard; the work is here, scoped by the
signed-in user (a practitioner books only on their own calendar, a patient they treat).
"""
