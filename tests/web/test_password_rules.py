"""A1: new passwords are refused when common (zxcvbn's 10,000 most frequent) and never truncated.

One check serves every form that sets a password: `check_new_password` (change your password,
every role, and the emailed reset and sign-up links) and `staff.check_staff_password` (a staff
invitation's link, where the invited person chooses their own).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from booking.domain.errors import InvalidInput
from booking.models import Role
from booking.services.accounts.passwords import (
    COMMON_PASSWORD,
    COMMON_PASSWORDS_CHECKED,
    check_new_password,
    is_common_password,
)
from booking.services.accounts.staff import check_staff_password
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD, csrf_from, sign_in

pytestmark = pytest.mark.matrix("A1")
RANKED = FREQUENCY_LISTS["passwords"]


def test_the_bundled_list_is_the_10000_most_common() -> None:
    assert COMMON_PASSWORDS_CHECKED >= 3000  # security.md §3
    assert is_common_password(RANKED[0])
    assert is_common_password(RANKED[COMMON_PASSWORDS_CHECKED - 1])  # the last one checked
    assert not is_common_password(RANKED[COMMON_PASSWORDS_CHECKED])  # the first one not


@pytest.mark.parametrize(
    ("role", "password"),
    [
        (Role.patient, "password"),  # the commonest one long enough for a patient
        (Role.patient, "PassWord"),  # case does not matter
        (Role.patient, "iloveyou"),
        (Role.patient, "qwerty123"),
        (Role.practitioner, "1qaz2wsx3edc4rfv"),  # long enough for staff, still common
        (Role.receptionist, "QAZWSXEDCRFVTGB"),
        (Role.admin, "123456789987654321"),
    ],
)
def test_common_passwords_are_refused(role: Role, password: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_new_password(password, role=role)
    assert caught.value.message == COMMON_PASSWORD
    assert caught.value.field == "new_password"


def test_the_invitation_rule_refuses_them_too() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_staff_password("1qaz2wsx3edc4rfv")
    assert caught.value.message == COMMON_PASSWORD
    assert caught.value.field == "new_password"


@pytest.mark.parametrize("role", list(Role))
def test_a_random_passphrase_and_the_demo_password_are_accepted(role: Role) -> None:
    check_new_password(secrets.token_urlsafe(16), role=role)  # 22 characters
    check_new_password(" ".join(secrets.token_hex(3) for _ in range(4)), role=role)
    check_new_password(DEMO_PASSWORD, role=role)
    check_staff_password(DEMO_PASSWORD)


def _change(client: FlaskClient, current: str, new: str) -> object:
    page = client.get("/auth/change-password").get_data(as_text=True)
    return client.post(
        "/auth/change-password",
        data={
            "csrf_token": csrf_from(page),
            "current_password": current,
            "new_password": new,
            "confirm_password": new,
        },
    )


def test_the_change_form_shows_the_message(login_as: Callable[[str], FlaskClient]) -> None:
    response = _change(login_as("patient"), DEMO_PASSWORD, "Sunshine")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f'href="#new_password">{COMMON_PASSWORD}</a>' in body


def test_a_128_character_password_is_kept_whole(
    demo: Flask, login_as: Callable[[str], FlaskClient]
) -> None:
    whole = secrets.token_hex(64)
    assert len(whole) == 128
    assert _change(login_as("patient"), DEMO_PASSWORD, whole).status_code == 303

    email = DEMO_EMAILS["patient"]
    last_differs = whole[:-1] + ("a" if whole[-1] != "a" else "b")
    assert sign_in(demo.test_client(), email, last_differs).status_code == 200
    assert sign_in(demo.test_client(), email, whole[:72]).status_code == 200  # bcrypt's cut
    assert sign_in(demo.test_client(), email, whole).status_code == 302
