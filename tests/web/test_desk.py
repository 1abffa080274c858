"""The front desk (issue 15): find and create patients, the record, booking on a patient's
behalf through holds (with an override and its reason), cancel, resend emails, and the day
sheet's check-in, undo and no-show with a fixed number of queries."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import meta
from sqlalchemy import select, update

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    BookingSource,
    Clinic,
    Location,
    OutboxMessage,
    PatientProfile,
    Practitioner,
    SessionType,
)
from booking.reception.day_sheet import ROW
from booking.reception.views import PAGINATION
from tests.conftest import count_queries
from tests.factories import make_appointment, make_patient
from tests.web.booking_helpers import Clock, demo_ids, error_summary, post, text

LoginAs = Callable[[str], FlaskClient]
# Wednesday 3 March 2027, 09:30 in London: Mei Lin Chen works 9am–1pm at Islington.
NOW = datetime(2027, 3, 3, 9, 30, tzinfo=UTC)


@pytest.fixture
def desk(demo: Flask, login_as: LoginAs, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    Clock(monkeypatch, NOW)
    return login_as("receptionist")


def _audit(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _demo(app: Flask, name: str, slug: str) -> tuple[Any, Any, Any]:
    return (
        db.session.scalar(select(Practitioner).where(Practitioner.display_name == name)),
        db.session.scalar(select(Location).where(Location.slug == "islington")),
        db.session.scalar(select(SessionType).where(SessionType.slug == slug)),
    )


def test_find_a_patient_by_misspelt_name_birth_date_email_or_phone_or_create_them(
    demo: Flask, desk: FlaskClient
) -> None:
    with demo.app_context():
        make_patient(
            given_name="Siobhán",
            family_name="O'Sullivan",
            date_of_birth=date(1984, 7, 9),
            email="Siobhan.OS@example.org",
            phone="+447700900982",
        )
        make_patient(given_name="Sam", family_name="Other", email="other@example.org")
        db.session.commit()
    for typed in (
        "osul",  # a prefix of the family name, accents and apostrophe folded
        "Siobhan Osullivan",
        "siobhan osulivan",  # a letter dropped
        "Osullivna Siobhan",  # swapped letters, names the other way round
        "9/7/1984",
        "1984-07-09",
        "9 July 1984",
        "siobhan.os@EXAMPLE.org",
        "07700 900982",
        "+44 (0)7700 900 982",
        "(07700) 900-982",
    ):
        page = text(desk.get("/reception/patients", query_string={"q": typed}))
        assert "Siobhán O&#39;Sullivan" in page, typed
        assert "Sam Other" not in page, typed
    page = text(desk.get("/reception/patients", query_string={"q": "zzzzqx"}))
    assert "No patients found" in page
    # Not found: create them, with the form's errors first.
    response = post(desk, "/reception/patients/new", {"phone": "12", "contact_preference": "sms"})
    assert response.status_code == 200
    summary = error_summary(response)
    for message in (
        "Enter their first name",
        "Enter their last name",
        "Enter their date of birth",
        "Enter their email address",
        "Enter a phone number, like 07700 900 982",
        "Select how we should contact them",
    ):
        assert message in summary
    response = post(
        desk,
        "/reception/patients/new",
        {
            "given_name": "Noor",
            "family_name": "Haddad",
            "date_of_birth-day": "2",
            "date_of_birth-month": "11",
            "date_of_birth-year": "1990",
            "email": "noor@example.org",
            "phone": "020 7946 0018",
            "contact_preference": "phone",
        },
    )
    assert response.status_code == 303
    with demo.app_context():
        patient = db.session.scalar(
            select(PatientProfile).where(PatientProfile.email == "noor@example.org")
        )
        assert patient is not None
        assert (patient.phone, patient.search_family, patient.sound_family) == (
            "+442079460018",
            "haddad",
            "H330",
        )
        assert response.headers["Location"].endswith(f"/reception/patients/{patient.id}")
    assert [e.patient_id for e in _audit(demo, "patient.create")] == [patient.id]
    page = text(desk.get(response.headers["Location"]))
    assert "Patient created" in page
    assert "Noor Haddad" in page
    assert "+442079460018" in page


def test_the_record_shows_sessions_missed_count_and_audited_flags(
    demo: Flask, desk: FlaskClient
) -> None:
    with demo.app_context():
        mei, islington, follow_up = _demo(demo, "Mei Lin Chen", "follow-up-acupuncture")
        patient = make_patient(given_name="Ola", family_name="Nowak")
        for weeks, status in ((2, "no_show"), (5, "no_show"), (60, "no_show")):
            make_appointment(
                starts_at=NOW - timedelta(weeks=weeks),
                practitioner=mei,
                location=islington,
                session_type=follow_up,
                patient=patient,
                status=status,
            )
        make_appointment(
            starts_at=NOW - timedelta(weeks=3),
            practitioner=mei,
            location=islington,
            session_type=follow_up,
            patient=patient,
            status="cancelled",
            late_cancel=True,
        )
        make_appointment(
            starts_at=NOW + timedelta(days=7),
            practitioner=mei,
            location=islington,
            session_type=follow_up,
            patient=patient,
        )
        patient_id = patient.id
        db.session.commit()
    seen = len(_audit(demo, "flags.read"))
    page = text(desk.get(f"/reception/patients/{patient_id}"))
    # Two no-shows and a late cancel in 12 months (the one 60 weeks ago is older): 3 >= 3.
    assert "Missed 3 sessions in the last 12 months" in page
    assert "Upcoming sessions" in page
    assert "Wednesday 10 March 2027" in page
    assert "Consent" in page
    assert "Health questions" in page
    assert len(_audit(demo, "flags.read")) == seen + 1
    assert desk.get("/reception/patients/999999").status_code == 404


def _book_page(desk: FlaskClient, patient_id: int, ids: Any, **extra: str) -> Any:
    return desk.get(
        f"/reception/patients/{patient_id}/book",
        query_string={
            "session_type": str(ids.follow_up),
            "location": str(ids.islington),
            "practitioner": str(ids.mei),
            "day": "03/03/2027",
            **extra,
        },
    )


def test_book_on_behalf_through_a_hold_with_an_override_and_its_reason(
    demo: Flask, desk: FlaskClient
) -> None:
    ids = demo_ids(demo)
    patient_id = ids.patient
    # 10:00 today is inside the two-hour notice: only offered with the override.
    page = _book_page(desk, patient_id, ids).get_data(as_text=True)
    assert "Free times on" in page
    assert "10am with Mei Lin Chen" not in page
    assert "12pm with Mei Lin Chen" in page
    page = _book_page(desk, patient_id, ids, override="y").get_data(as_text=True)
    assert "10am with Mei Lin Chen" in page
    start = f"{ids.mei}|2027-03-03T10:00:00+00:00"
    hold = post(
        desk,
        f"/reception/patients/{patient_id}/book/hold?session_type={ids.follow_up}"
        f"&location={ids.islington}&override=1",
        {"start": start},
    )
    assert hold.status_code == 303
    confirm_url = hold.headers["Location"]
    assert "override=1" in confirm_url
    page = text(desk.get(confirm_url))
    assert "Check and book for" in page
    assert "10am" in page
    refused = post(desk, confirm_url, {"override": "1", "reason": "  "})
    assert "Enter why the notice or horizon is overridden" in error_summary(refused)
    booked = post(desk, confirm_url, {"override": "1", "reason": "Patient in pain, walked in"})
    assert booked.status_code == 303
    with demo.app_context():
        row = db.session.scalar(
            select(Appointment).where(
                Appointment.patient_id == patient_id,
                Appointment.starts_at == datetime(2027, 3, 3, 10, 0, tzinfo=UTC),
            )
        )
        assert row is not None
        assert (row.status, row.source, row.hold_owner) == (
            AppointmentStatus.booked,
            BookingSource.staff,
            f"desk:{_receptionist_id()}",
        )
        assert db.session.scalar(
            select(OutboxMessage.kind).where(OutboxMessage.recipient == row.patient.email)
        ) == ("appointment.confirmation")
    [event] = _audit(demo, "appointment.book")
    assert event.detail == "staff override: Patient in pain, walked in"
    assert event.actor_role == "receptionist"
    # The same time again: the guard refuses it (never an overlap), the desk is told.
    again = post(
        desk,
        f"/reception/patients/{patient_id}/book/hold?session_type={ids.follow_up}"
        f"&location={ids.islington}&override=1",
        {"start": start},
    )
    assert again.status_code == 303
    assert "/book?" not in again.headers["Location"]
    assert "taken" in text(desk.get(again.headers["Location"])).lower()


def _receptionist_id() -> int:
    from booking.models import User

    return db.session.scalar(select(User.id).where(User.email == "reception@meridian.example"))


def test_cancel_with_reason_and_resend_emails(demo: Flask, desk: FlaskClient) -> None:
    with demo.app_context():
        mei, islington, follow_up = _demo(demo, "Mei Lin Chen", "follow-up-acupuncture")
        appointment = make_appointment(
            starts_at=NOW + timedelta(days=2),
            practitioner=mei,
            location=islington,
            session_type=follow_up,
            manage_token_hash="x" * 64,
        )
        patient_id, appointment_id = appointment.patient_id, appointment.id
        db.session.commit()
    base = f"/reception/patients/{patient_id}/sessions/{appointment_id}"
    # Move it first: from 9:30 on Friday to 12pm the same day, through the engine.
    page = desk.get(f"{base}/change").get_data(as_text=True)
    assert "Free times on Friday 5 March 2027" in page
    moved = post(desk, f"{base}/change?day=05/03/2027", {"start": "2027-03-05T12:00:00+00:00"})
    assert moved.status_code == 303
    taken = post(desk, f"{base}/change?day=05/03/2027", {"start": "2027-03-05T12:00:00+00:00"})
    assert "Select a new time" in error_summary(taken)  # its own time is no longer offered
    assert post(desk, f"{base}/confirmation").status_code == 303
    assert post(desk, f"/reception/patients/{patient_id}/send-links").status_code == 303
    assert (
        post(desk, f"/reception/patients/999999/sessions/{appointment_id}/cancel").status_code
        == 404
    )
    refused = post(desk, f"{base}/cancel", {"reason": ""})
    assert "Enter why the session is cancelled" in error_summary(refused)
    assert post(desk, f"{base}/cancel", {"reason": "Practitioner unwell"}).status_code == 303
    with demo.app_context():
        kinds = sorted(db.session.scalars(select(OutboxMessage.kind)))
        row = db.session.get(Appointment, appointment_id)
        assert (row.status, row.cancel_reason, row.late_cancel, row.ics_sequence) == (
            AppointmentStatus.cancelled,
            "Practitioner unwell",
            False,
            2,  # moved once, then cancelled: the same UID, a higher SEQUENCE each time
        )
        assert row.starts_at == datetime(2027, 3, 5, 12, 0, tzinfo=UTC)
    assert kinds == [
        "appointment.cancellation",
        "appointment.change",
        "appointment.confirmation",
        "appointment.manage_link",
    ]
    assert len(_audit(demo, "appointment.resend_confirmation")) == 1


def _today_session(app: Flask, hour: int, minute: int = 0) -> int:
    with app.app_context():
        mei, islington, follow_up = _demo(app, "Mei Lin Chen", "follow-up-acupuncture")
        appointment_id = make_appointment(
            starts_at=datetime(2027, 3, 3, hour, minute, tzinfo=UTC),
            practitioner=mei,
            location=islington,
            session_type=follow_up,
        ).id
        db.session.commit()
        return appointment_id


def _row(page: str, appointment_id: int) -> str:
    """The day sheet's row of one session, as HTML."""
    return page.split(f'id="a{appointment_id}"', 1)[1].split("</tr>", 1)[0]


def test_day_sheet_flags_patients_who_missed_sessions_in_the_last_12_months(
    demo: Flask, desk: FlaskClient
) -> None:
    """No-shows and late cancels in the 12 months to now count; older ones and the clinic's
    own cancellations do not (domain.md §5). Counted through the partial index's own SQL
    (issue 22): this checks the words are the same as before."""
    with demo.app_context():
        mei, islington, follow_up = _demo(demo, "Mei Lin Chen", "follow-up-acupuncture")
        ola, sam = make_patient(given_name="Ola"), make_patient(given_name="Sam")
        past = [
            (ola, 2, "no_show", False),
            (ola, 5, "no_show", False),
            (ola, 60, "no_show", False),  # older than 12 months
            (ola, 3, "cancelled", True),  # late
            (ola, 4, "cancelled", False),  # not late: never counts
            (sam, 2, "no_show", False),
            (sam, 3, "completed", False),
        ]
        for patient, weeks, status, late in past:
            make_appointment(
                starts_at=NOW - timedelta(weeks=weeks),
                practitioner=mei,
                location=islington,
                session_type=follow_up,
                patient=patient,
                status=status,
                late_cancel=late,
            )
        today = [
            make_appointment(
                starts_at=datetime(2027, 3, 3, hour, tzinfo=UTC),
                practitioner=mei,
                location=islington,
                session_type=follow_up,
                patient=patient,
            ).id
            for patient, hour in ((ola, 11), (sam, 12))
        ]
        db.session.commit()
    page = desk.get("/reception/").get_data(as_text=True)
    ola_row, sam_row = _row(page, today[0]), _row(page, today[1])
    assert "<strong>Missed 3 sessions in 12 months</strong>" in ola_row  # threshold 3
    assert "Missed" not in sam_row
    assert sam_row.split('data-label="Flags">')[1].split("</td>")[0].strip() == "None"
    with demo.app_context():
        db.session.execute(update(Clinic).values(missed_threshold=1))
        db.session.commit()
    page = desk.get("/reception/").get_data(as_text=True)
    assert "<strong>Missed 1 sessions in 12 months</strong>" in _row(page, today[1])


def test_day_sheet_escapes_what_people_typed(demo: Flask, desk: FlaskClient) -> None:
    """The rows are written out with autoescaping off, their texts escaped in Python
    (booking/reception/day_sheet.py, issue 22): markup typed into a name stays text."""
    with demo.app_context():
        mei, islington, follow_up = _demo(demo, "Mei Lin Chen", "follow-up-acupuncture")
        patient = make_patient(given_name='<b>Zo\u00eb</b> "&', family_name="O'Brien <i>")
        appointment_id = make_appointment(
            starts_at=datetime(2027, 3, 3, 11, tzinfo=UTC),
            practitioner=mei,
            location=islington,
            session_type=follow_up,
            patient=patient,
        ).id
        db.session.commit()
    row = _row(desk.get("/reception/").get_data(as_text=True), appointment_id)
    shown = "&lt;b&gt;Zo\u00eb&lt;/b&gt; &#34;&amp; O&#39;Brien &lt;i&gt;"
    assert f">{shown}</a>" in row  # the link to the record
    assert f'<span class="govuk-visually-hidden"> {shown}</span>' in row  # "Check in"
    assert "<b>" not in row
    assert "<i>" not in row


def test_day_sheet_check_in_undo_and_no_show_in_a_fixed_number_of_queries(
    demo: Flask, desk: FlaskClient
) -> None:
    desk.get("/reception/")  # warm the session and the user loader
    _today_session(demo, 9)
    with count_queries(demo) as few:
        assert desk.get("/reception/").status_code == 200
    for hour, minute in ((10, 0), (10, 45), (11, 30), (12, 15)):
        _today_session(demo, hour, minute)
    with count_queries(demo) as many:
        page = desk.get("/reception/").get_data(as_text=True)
    assert page.count("Check in<span") == 5  # (9am is in the past: no-show too)
    assert len(many) == len(few)
    # Session row (read once), user, the places, the sessions per place (to page a large
    # day), the sessions with practitioner, type and room joined in and, per row, the
    # patient's name, plan, intake, flag and missed sessions, and the clinic's missed
    # threshold (listings.sheet_sessions). No plan, flag or intake here: nothing more is read.
    assert len(many) == 5, "\n\n".join(many)
    early, later = _today_session(demo, 8, 15), _today_session(demo, 14)
    page = desk.get("/reception/").get_data(as_text=True)
    assert "Not arrived" in page
    assert "Check in" in page
    assert f"/reception/sessions/{early}/no-show" in page  # started: may be marked
    assert f"/reception/sessions/{later}/no-show" not in page  # not yet started
    assert post(desk, f"/reception/sessions/{later}/check-in").status_code == 303
    assert "Arrived" in text(desk.get("/reception/"))
    assert post(desk, f"/reception/sessions/{later}/undo-check-in").status_code == 303
    assert post(desk, f"/reception/sessions/{early}/no-show").status_code == 303
    page = text(desk.get("/reception/"))
    assert "Did not come" in page
    assert post(desk, f"/reception/sessions/{early}/undo-no-show").status_code == 303
    with demo.app_context():
        statuses = [db.session.get(Appointment, i).status for i in (early, later)]
    assert statuses == [AppointmentStatus.booked, AppointmentStatus.booked]
    actions = [
        e.action for e in _audit(demo, "appointment.check_in") + _audit(demo, "appointment.no_show")
    ]
    assert sorted(actions) == ["appointment.check_in", "appointment.no_show"]
    # A session on another day cannot be checked in: the page says why, nothing changes.
    with demo.app_context():
        mei, islington, follow_up = _demo(demo, "Mei Lin Chen", "follow-up-acupuncture")
        tomorrow = make_appointment(
            starts_at=NOW + timedelta(days=1),
            practitioner=mei,
            location=islington,
            session_type=follow_up,
        ).id
        db.session.commit()
    refused = post(desk, f"/reception/sessions/{tomorrow}/check-in")
    assert refused.status_code == 422
    assert "only be checked in on the day" in text(refused)


def test_a_practitioner_books_on_their_own_calendar_only(
    demo: Flask, login_as: LoginAs, monkeypatch: pytest.MonkeyPatch
) -> None:
    Clock(monkeypatch, NOW)
    ids = demo_ids(demo)
    with demo.app_context():
        mei, islington, follow_up = _demo(demo, "Mei Lin Chen", "follow-up-acupuncture")
        theirs = make_appointment(
            starts_at=NOW - timedelta(weeks=1),
            practitioner=mei,
            location=islington,
            session_type=follow_up,
            status="completed",
        ).patient_id
        stranger = make_patient().id
        db.session.commit()
    client = login_as("practitioner")  # Mei Lin Chen
    record = client.get(f"/practitioner/patients/{theirs}/health").get_data(as_text=True)
    assert f"/practitioner/patients/{theirs}/book" in record
    page = client.get(
        f"/practitioner/patients/{theirs}/book",
        query_string={
            "session_type": str(ids.follow_up),
            "location": str(ids.islington),
            "practitioner": str(ids.mei),
            "day": "10/03/2027",
        },
    ).get_data(as_text=True)
    assert "Anyone free" not in page
    assert "Tom Okafor" not in page
    assert "9am with Mei Lin Chen" in page
    held = post(
        client,
        f"/practitioner/patients/{theirs}/book/hold?session_type={ids.follow_up}"
        f"&location={ids.islington}",
        {"start": f"{ids.mei}|2027-03-10T09:00:00+00:00"},
    )
    assert held.status_code == 303
    booked = post(client, held.headers["Location"])
    assert booked.status_code == 303
    assert booked.headers["Location"].endswith(f"/practitioner/patients/{theirs}/health")
    # Another practitioner's calendar is refused; a patient she does not treat is not found.
    other = post(
        client,
        f"/practitioner/patients/{theirs}/book/hold?session_type={ids.follow_up}"
        f"&location={ids.islington}",
        {"start": f"{ids.tom}|2027-03-10T10:00:00+00:00"},
    )
    assert other.status_code == 403
    assert client.get(f"/practitioner/patients/{stranger}/book").status_code == 404
    with demo.app_context():
        row = db.session.scalar(
            select(Appointment).where(
                Appointment.patient_id == theirs, Appointment.status == AppointmentStatus.booked
            )
        )
        assert row is not None
        assert (row.practitioner_id, row.source) == (ids.mei, BookingSource.staff)
    [event] = _audit(demo, "appointment.book")
    assert event.actor_role == "practitioner"


def test_a_large_day_is_paged_by_whole_locations(demo: Flask, desk: FlaskClient) -> None:
    """A chain's day of a thousand sessions is served a few locations at a time (issue 22)."""
    demo.config["RECEPTION_SHEET_PAGE_SIZE"] = 2
    islington = [_today_session(demo, hour) for hour in (10, 11, 12)]
    with demo.app_context():
        aoife = db.session.scalar(
            select(Practitioner).where(Practitioner.display_name == "Aoife Byrne")
        )
        dublin = db.session.scalar(select(Location).where(Location.slug == "dublin"))
        follow_up = db.session.scalar(
            select(SessionType).where(SessionType.slug == "follow-up-acupuncture")
        )
        in_dublin = make_appointment(
            starts_at=datetime(2027, 3, 3, 11, tzinfo=UTC),
            practitioner=aoife,
            location=dublin,
            session_type=follow_up,
        ).id
        db.session.commit()

    first = desk.get("/reception/")
    second = desk.get("/reception/?page=2")

    # Places in name order: Dublin (1 session) fills page 1; Islington (3) does not fit.
    assert first.status_code == second.status_code == 200
    one, two = first.get_data(as_text=True), second.get_data(as_text=True)
    assert "<title>Day sheet (page 1 of 2)" in one
    assert "page 1 of 2 shows Dublin." in one
    assert f'id="a{in_dublin}"' in one
    assert not any(f'id="a{i}"' in one for i in islington)
    assert all(f'id="a{i}"' in two for i in islington)
    assert f'id="a{in_dublin}"' not in two
    assert 'aria-label="Day sheet pages"' in one
    assert 'href="/reception/?page=2"' in one
    assert 'aria-label="Page 2: Islington"' in one
    for wrong in ("/reception/?page=3", "/reception/?page=0", "/reception/?location=1&page=2"):
        assert desk.get(wrong).status_code == 404, wrong
    # An action goes back to the page that holds the session.
    done = post(desk, f"/reception/sessions/{islington[1]}/check-in")
    assert done.headers["Location"].endswith(f"/reception/?page=2#a{islington[1]}")
    done = post(desk, f"/reception/sessions/{in_dublin}/check-in")
    assert done.headers["Location"].endswith(f"/reception/#a{in_dublin}")
    # A small day is one page, as before.
    demo.config["RECEPTION_SHEET_PAGE_SIZE"] = 150
    page = desk.get("/reception/").get_data(as_text=True)
    assert "Day sheet pages" not in page
    assert f'id="a{in_dublin}"' in page


def test_day_sheet_rows_are_kept_rendered_with_a_csrf_field_in_each_form(
    demo: Flask, desk: FlaskClient
) -> None:
    """Each row's HTML is kept per worker by the row's values (booking/fragments.py, issue
    22); the CSRF field, new with each request, is put into every form of every row."""
    ids = [_today_session(demo, hour) for hour in (10, 11, 12)]
    form = re.compile(
        r'<form method="post" action="/reception/sessions/(\d+)/[a-z-]+" [^>]*>\s*'
        r'<input name="csrf_token" type="hidden" value="([^"]+)">'
    )
    first = desk.get("/reception/").get_data(as_text=True)
    renderers = demo.extensions["meridian.fragments"]
    (row_renderer,) = [r for (name, _), r in renderers.items() if name == ROW]
    before = row_renderer.cache_info()  # type: ignore[attr-defined]
    second = desk.get("/reception/").get_data(as_text=True)
    after = row_renderer.cache_info()  # type: ignore[attr-defined]
    assert after.hits - before.hits == len(ids)
    assert after.misses == before.misses
    for page in (first, second):
        assert sorted(int(i) for i, _ in form.findall(page)) == ids
        assert 'id="csrf_token"' not in page.split("<tbody", 1)[1]  # one id, many forms
    # The same rows, but for the field's value (signed with the second it was made in).
    rows = [[re.sub(r'value="[^"]+"', "", _row(p, i)) for i in ids] for p in (first, second)]
    assert rows[0] == rows[1]
    # The field is this request's and works: a kept row still checks the patient in.
    token = dict(form.findall(second))[str(ids[0])]
    done = desk.post(f"/reception/sessions/{ids[0]}/check-in", data={"csrf_token": token})
    assert done.status_code == 303
    assert "Arrived" in _row(desk.get("/reception/").get_data(as_text=True), ids[0])


def test_kept_fragments_use_nothing_but_their_value(demo: Flask) -> None:
    """A kept rendering must not depend on the request (user, session, clock): the fragment
    templates name only `r` and url_for (whose links are kept per application root)."""
    env = demo.jinja_env
    assert env.loader is not None
    for name in (ROW, PAGINATION):
        source = env.loader.get_source(env, name)[0]
        assert meta.find_undeclared_variables(env.parse(source)) <= {"r", "url_for", "range"}
