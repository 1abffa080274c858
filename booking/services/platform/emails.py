"""Email addresses: one normal form for matching, one format check for new addresses."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from booking.domain.errors import InvalidInput

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"


def normalise_email(email: str) -> str:
    """The address as stored on accounts and matched at sign-in: trimmed and lower-cased.

    The same form keys the sign-in brute-force counter, so "Ann@X.org " and "ann@x.org"
    share one counter and one account. Malformed input is normalised too, never refused:
    a sign-in must not reveal which addresses are well formed.
    """
    return email.strip().lower()


def check_email_format(email: str, *, field: str = "email") -> str:
    """The address as email-validator normalises it (domain lower-cased, local part kept).

    Raises InvalidInput naming `field` when it is not a well-formed address.
    """
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidInput(EMAIL_FORMAT, field=field) from error
