"""The clinic set-up services: their own checks back up the forms for any other caller."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from booking.domain.errors import InvalidInput, NotFound
from booking.extensions import db
from booking.models import AuditEvent, Practitioner, Role, RoomKind, SessionType, User
from booking.services.clinic import locations, policies, practitioners, session_types
from booking.services.clinic.checks import canonical_zone, slugify
from booking.services.clinic.locations import LocationValues, RoomValues
from booking.services.clinic.policies import PolicyValues
from booking.services.clinic.session_types import SessionTypeValues
from tests.factories import make_location, make_practitioner, make_session_type, make_user

NOW = datetime(2027, 4, 13, 9, 0, tzinfo=UTC)
POLICY = PolicyValues(120, 90, 15, 24, "call", 3)
PLACE = LocationValues(
    name="Camden",
    address="1 Camden High Street, London NW1 7JE",
    phone="020 7946 0000",
    timezone="Europe/London",
    country_code="GB",
    is_active=True,
)
ROOM = RoomValues(name="Room A", kind="treatment", capacity=1, sort_order=1, is_active=True)
TYPE = SessionTypeValues(
    name="Gua sha",
    description="",
    duration_minutes=20,
    buffer_before_minutes=0,
    buffer_after_minutes=5,
    price_pence=None,
    audience="any",
    room_kind=None,
    modalities=("gua_sha",),
    practitioner_ids=(),
    sort_order=5,
    is_active=True,
)


@pytest.fixture
def admin_user(app: Flask) -> Iterator[User]:
    """An admin of a clinic made by the factories: Islington (id 1) with a community room, a
    community session type and practitioners 1 Mei Lin Chen, 2 Tom Okafor, 3 Aoife Byrne and
    4 Sam Patel (ids follow creation on an empty database)."""
    with app.app_context():
        make_location(
            name="Islington",
            slug="islington",
            rooms=[{"name": "Community room", "kind": RoomKind.community, "capacity": 4}],
        )
        community = make_session_type(name="Community acupuncture", slug="community-acupuncture")
        follow_up = make_session_type(name="Follow-up acupuncture", slug="follow-up-acupuncture")
        for name in ("Mei Lin Chen", "Tom Okafor", "Aoife Byrne", "Sam Patel"):
            make_practitioner(display_name=name, session_types=[follow_up, community])
        admin = make_user(role=Role.admin)
        db.session.commit()
        yield admin


def test_no_clinic_means_no_policies_to_change(app: Flask) -> None:
    with app.app_context():
        actor = User(
            email="a@meridian.example", role=Role.admin, display_name="A", password_hash="x"
        )
        db.session.add(actor)
        db.session.flush()
        with pytest.raises(NotFound):
            policies.update_policies(POLICY, actor=actor, now=NOW)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        (replace(POLICY, slot_step_minutes=25), "slot_step_minutes"),  # not on the list
        (replace(POLICY, max_advance_days=0), "max_advance_days"),  # DB CHECK is 1..730
        (replace(POLICY, cancellation_cutoff_hours=169), "cancellation_cutoff_hours"),
        (replace(POLICY, min_notice_minutes=-1), "min_notice_minutes"),
        (replace(POLICY, late_cancel_mode="fine"), "late_cancel_mode"),
        (replace(POLICY, missed_threshold=0), "missed_threshold"),
    ],
)
def test_policy_checks(admin_user: User, values: PolicyValues, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        policies.update_policies(values, actor=admin_user, now=NOW)
    assert refused.value.field == field


def test_an_unchanged_save_is_audited_with_no_fields(admin_user: User) -> None:
    policies.update_policies(POLICY, actor=admin_user, now=NOW)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "setup.policies.update")
    )
    assert (event.object_type, event.detail, event.occurred_at) == ("clinic", None, NOW)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        (replace(PLACE, name="  "), "name"),
        (replace(PLACE, name="ISLINGTON"), "name"),  # names are unique, ignoring case
        (replace(PLACE, address=""), "address"),
        (replace(PLACE, country_code="UK"), "country_code"),  # ISO says GB
        (replace(PLACE, phone="0"), "phone"),
        (replace(PLACE, timezone="GMT+1"), "timezone"),
        (replace(PLACE, slot_step_minutes=0), "slot_step_minutes"),
        (replace(PLACE, max_advance_days=1000), "max_advance_days"),
    ],
)
def test_location_checks(admin_user: User, values: LocationValues, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        locations.create_location(values, actor=admin_user, now=NOW)
    assert refused.value.field == field


def test_location_slugs_stay_unique_and_stable(admin_user: User) -> None:
    first = locations.create_location(replace(PLACE, name="Camden!"), actor=admin_user, now=NOW)
    second = locations.create_location(replace(PLACE, name="Camden?"), actor=admin_user, now=NOW)
    assert (first.slug, second.slug) == ("camden", "camden-2")
    locations.update_location(
        first.id, replace(PLACE, name="Kentish Town"), actor=admin_user, now=NOW
    )
    assert first.slug == "camden"
    with pytest.raises(NotFound):
        locations.update_location(999, PLACE, actor=admin_user, now=NOW)


def test_a_location_may_keep_its_own_name(admin_user: User) -> None:
    values = replace(PLACE, name="Islington", phone="+353 1 555 0143", country_code="ie")
    saved = locations.update_location(1, values, actor=admin_user, now=NOW)
    assert (saved.name, saved.country_code) == ("Islington", "IE")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        (replace(ROOM, name="Community ROOM"), "name"),  # taken at Islington
        (replace(ROOM, kind="sauna"), "kind"),
        (replace(ROOM, capacity=13), "capacity"),
        (replace(ROOM, sort_order=-1), "sort_order"),
    ],
)
def test_room_checks(admin_user: User, values: RoomValues, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        locations.create_room(1, values, actor=admin_user, now=NOW)
    assert refused.value.field == field


def test_a_room_needs_a_location(admin_user: User) -> None:
    with pytest.raises(NotFound):
        locations.create_room(999, ROOM, actor=admin_user, now=NOW)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        (replace(TYPE, duration_minutes=45), "duration_minutes"),
        (replace(TYPE, buffer_before_minutes=31), "buffer_before_minutes"),
        (replace(TYPE, price_pence=-1), "price"),
        (replace(TYPE, audience="everyone"), "audience"),
        (replace(TYPE, room_kind="sauna"), "room_kind"),
        (replace(TYPE, modalities=("bloodletting",)), "modalities"),
        (replace(TYPE, practitioner_ids=(1, 999)), "practitioner_ids"),
        (replace(TYPE, name="community acupuncture"), "name"),
        (replace(TYPE, description="d" * 501), "description"),
    ],
)
def test_session_type_checks(admin_user: User, values: SessionTypeValues, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        session_types.create_session_type(values, actor=admin_user, now=NOW)
    assert refused.value.field == field


def test_who_offers_a_session_type_follows_the_ticks(admin_user: User) -> None:
    mei = db.session.get(Practitioner, 1)
    before = [t.slug for t in mei.session_types]  # loaded now, so it must not go stale
    added = session_types.create_session_type(
        replace(TYPE, practitioner_ids=(1, 2)), actor=admin_user, now=NOW
    )
    assert sorted(session_types.offered_by(added.id)) == [1, 2]
    assert [t.slug for t in mei.session_types] == [*before, "gua-sha"]
    session_types.update_session_type(
        added.id, replace(TYPE, practitioner_ids=(2, 3)), actor=admin_user, now=NOW
    )
    assert sorted(session_types.offered_by(added.id)) == [2, 3]
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "setup.session_type.update")
    ).one()
    assert event.detail == "practitioners"
    rows = {
        row.session_type.slug: row.practitioner_names for row in session_types.session_type_rows()
    }
    assert rows["gua-sha"] == ("Aoife Byrne", "Tom Okafor")
    assert db.session.get(SessionType, added.id).modalities == "gua_sha"


def test_an_inactive_practitioner_stays_a_choice_only_where_chosen(admin_user: User) -> None:
    db.session.get(Practitioner, 4).is_active = False
    db.session.flush()
    assert 4 not in [pid for pid, _ in practitioners.practitioner_choices()]
    assert 4 in [pid for pid, _ in practitioners.practitioner_choices(selected=[4])]


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/London", "Europe/London"),
        ("europe/dublin", "Europe/Dublin"),
        (" America/New York ", "America/New_York"),  # a space for the underscore
        ("London", None),
        ("", None),
    ],
)
def test_canonical_zone(typed: str, zone: str | None) -> None:
    assert canonical_zone(typed) == zone


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Islington", "islington"), ("St. Mary's Clinic", "st-mary-s-clinic"), ("诊所", "place")],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name, "place") == slug
