"""The one email normaliser, the one email format check and the one token hash."""

import hashlib

import pytest

from booking.domain.errors import InvalidInput
from booking.services.accounts.sign_in import throttle_key
from booking.services.platform.emails import EMAIL_FORMAT, check_email_format, normalise_email
from booking.services.platform.tokens import new_token, token_hash


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("ann@example.org", "ann@example.org"),  # already in normal form
        ("Ann.Lee@Example.ORG", "ann.lee@example.org"),  # the whole address, local part too
        ("  ann@example.org\n", "ann@example.org"),  # whitespace around it is trimmed
        ("ANN@EXAMPLE.ORG ", "ann@example.org"),  # both at once
        ("Zoë@Example.org", "zoë@example.org"),  # non-ASCII letters lower-case as well
        ("not an email", "not an email"),  # malformed input is normalised, never refused
        ("", ""),  # nothing stays nothing
    ],
)
def test_normalise_email(typed: str, normal: str) -> None:
    assert normalise_email(typed) == normal


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Ann@Example.org", "ann@example.org"),  # case
        (" ann@example.org", "ann@example.org "),  # whitespace
    ],
)
def test_one_lockout_counter_per_normalised_address(first: str, second: str) -> None:
    # The brute-force counter is keyed by the hash of the normal form, so spelling the
    # address differently does not buy a fresh set of guesses.
    assert throttle_key(first) == throttle_key(second) == token_hash(normalise_email(first))


@pytest.mark.parametrize(
    ("typed", "checked"),
    [
        ("ann@example.org", "ann@example.org"),  # well formed
        ("Ann@Example.ORG", "Ann@example.org"),  # domain lower-cased, local part kept as typed
        ("  ann@example.org ", "ann@example.org"),  # trimmed first
    ],
)
def test_check_email_format_accepts(typed: str, checked: str) -> None:
    assert check_email_format(typed) == checked


@pytest.mark.parametrize(
    "typed",
    [
        "ann",  # no @
        "ann@",  # no domain
        "@example.org",  # no local part
        "ann@@example.org",  # two @
        "ann@example..org",  # empty domain label
    ],
)
def test_check_email_format_refuses(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_email_format(typed, field="contact")
    assert (refused.value.field, refused.value.message) == ("contact", EMAIL_FORMAT)


def test_token_hash_is_hex_sha256_and_tokens_are_random() -> None:
    assert token_hash("abc") == hashlib.sha256(b"abc").hexdigest()
    assert len(token_hash(new_token())) == 64
    assert new_token() != new_token()
    assert len(new_token()) >= 43  # 32 random bytes, URL-safe base64
