"""`id_links`: a long list's links built by one url_for, equal to url_for for every id."""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from booking.links import id_links


@pytest.mark.parametrize(
    ("endpoint", "key", "values"),
    [
        ("reception.patient_record", "patient_id", {}),
        ("reception.check_in", "appointment_id", {}),
        ("practitioner.intake_detail", "intake_id", {}),
        ("reception.patient_record", "patient_id", {"next": "/reception/?a=1&b=2"}),
    ],
)
def test_the_links_equal_url_for(
    sqlite_app: Flask, endpoint: str, key: str, values: dict[str, str]
) -> None:
    with sqlite_app.test_request_context("/", base_url="http://clinic.example/sub"):
        link = id_links(endpoint, key, **values)
        for n in (1, 9, 10, 999, 2**31 - 1):
            assert link(n) == url_for(endpoint, **{key: n}, **values)


def test_a_value_that_is_not_a_number_is_refused(sqlite_app: Flask) -> None:
    with sqlite_app.test_request_context("/"):
        link = id_links("reception.check_in", "appointment_id")
        with pytest.raises(ValueError, match="invalid literal"):
            link("1/../../admin")  # type: ignore[arg-type] - what a template could pass


def test_a_url_that_repeats_the_placeholder_falls_back_to_url_for(sqlite_app: Flask) -> None:
    # The placeholder also in a query value: the per-row url_for builds each link.
    with sqlite_app.test_request_context("/"):
        link = id_links("reception.patient_record", "patient_id", q="9999999999")
        assert link(12) == url_for("reception.patient_record", patient_id=12, q="9999999999")
