"""After treatment: the check-in email after a first session and the side effects reported."""
