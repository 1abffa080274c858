"""A guest's own account: prove the email by an emailed link, then choose a password.

The account takes over the guest profiles booked with that email address and date of birth
(their sessions, health questions, flags and consents), gathered onto the newest profile,
since an account has one profile. Asking answers the same whatever is held.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select, update

from booking.domain.errors import NotFound
from booking.extensions import db
from booking.mail import render_email
from booking.models import (
    AccountLink,
    AccountLinkPurpose,
    Appointment,
    Consent,
    IntakeResponse,
    PatientFlag,
    PatientProfile,
    Role,
    User,
)
from booking.services.accounts import links
from booking.services.accounts.passwords import check_new_password, hash_password
from booking.services.accounts.reset import LINK_GONE, EmailedLink, user_by_email
from booking.services.accounts.sign_in import SignedIn, open_session
from booking.services.platform import outbox
from booking.services.platform.audit import record_event
from booking.services.platform.emails import normalise_email

SIGN_UP_HOURS = int(links.LINK_VALID[AccountLinkPurpose.sign_up].total_seconds() // 3600)


def guest_profiles(email: str, date_of_birth: date) -> list[PatientProfile]:
    """Profiles without an account for this address and date of birth, newest first."""
    return list(
        db.session.scalars(
            select(PatientProfile)
            .where(
                func.lower(PatientProfile.email) == normalise_email(email),
                PatientProfile.date_of_birth == date_of_birth,
                PatientProfile.user_id.is_(None),
            )
            .order_by(PatientProfile.id.desc())
        )
    )


def request_sign_up(
    email: str,
    date_of_birth: date,
    link: EmailedLink,
    *,
    sign_in_url: str,
    now: datetime,
    clinic_name: str,
    send: bool = True,
) -> None:
    """Email a sign-up link when guest bookings match; "you have an account" when one does.

    Anything else (an unknown address, a date of birth that matches nothing) sends nothing,
    after the same look-ups and rendering, so the answer and its timing reveal nothing.
    """
    address = normalise_email(email)
    user = user_by_email(address)
    profiles = guest_profiles(address, date_of_birth)
    given_name = profiles[0].given_name if profiles else address
    body = render_email(
        "sign_up",
        given_name=given_name,
        link=link.url,
        hours=SIGN_UP_HOURS,
        clinic_name=clinic_name,
    )
    links.replace_links(AccountLinkPurpose.sign_up, address, now=now)
    if not send or user is not None or not profiles:
        links.add_decoy(AccountLinkPurpose.sign_up, link.token, email=address, now=now)
    if not send:
        return
    if user is not None:
        outbox.enqueue(
            kind="auth.account_exists",
            recipient=user.email,
            subject=f"You already have an account – {clinic_name}",
            body_text=render_email(
                "account_exists",
                display_name=user.display_name,
                sign_in_link=sign_in_url,
                clinic_name=clinic_name,
            ),
            dedupe_key=f"account-exists:{user.id}:{now.isoformat()}",
            now=now,
        )
        return
    if not profiles:
        return
    links.add_link(
        AccountLinkPurpose.sign_up,
        link.token,
        email=address,
        date_of_birth=date_of_birth,
        now=now,
    )
    outbox.enqueue(
        kind="auth.sign_up",
        recipient=profiles[0].email,
        subject=f"Create your account – {clinic_name}",
        body_text=body,
        dedupe_key=f"sign-up:{address}:{now.isoformat()}",
        now=now,
    )


def sign_up_link(token: str, *, now: datetime) -> AccountLink:
    """The live sign-up link. Raises NotFound (`link_gone`), also once the address has an
    account or no longer matches a guest profile."""
    link = links.live_link(AccountLinkPurpose.sign_up, token, now=now)
    if (
        link is None
        or link.date_of_birth is None
        or user_by_email(link.email) is not None
        or not guest_profiles(link.email, link.date_of_birth)
    ):
        raise NotFound("That link no longer works", LINK_GONE)
    return link


def create_account(
    token: str,
    password: str,
    *,
    now: datetime,
    cost: tuple[int, int, int],
    ip_address: str | None,
) -> SignedIn:
    """Spend the link, create the patient account, attach the guest profiles, sign in.

    Raises NotFound (`link_gone`) or InvalidInput (field `new_password`); either changes
    nothing. Returns the new session.
    """
    link = sign_up_link(token, now=now)
    check_new_password(password, role=Role.patient)
    profiles = guest_profiles(link.email, link.date_of_birth or date.min)
    if not links.spend(link):
        raise NotFound("That link no longer works", LINK_GONE)
    primary = profiles[0]
    user = User(
        email=normalise_email(primary.email),
        role=Role.patient,
        display_name=primary.full_name,
        password_hash=hash_password(password, cost=cost),
        created_at=now,
    )
    db.session.add(user)
    db.session.flush()
    primary.user_id = user.id
    gather_onto(primary, [p.id for p in profiles[1:]], now=now)
    signed_in = open_session(user, now=now, ip_address=ip_address)
    record_event(
        "auth.sign_up",
        actor=user,
        now=now,
        object_type="user",
        object_id=user.id,
        patient_id=primary.id,
        ip_address=ip_address,
    )
    db.session.flush()
    return signed_in


def gather_onto(primary: PatientProfile, others: list[int], *, now: datetime) -> None:
    """Move the other profiles' sessions, intakes, flags and consents onto `primary`.

    Only the newest current consent per modality stays current; older ones are ended.
    Audit rows keep the profile they were written for (they are append-only).
    """
    if not others:
        return
    ids = [primary.id, *others]
    current = db.session.scalars(
        select(Consent)
        .where(Consent.patient_id.in_(ids), Consent.ended_at.is_(None))
        .order_by(Consent.given_at.desc(), Consent.id.desc())
    )
    seen = set()
    for consent in current:
        if consent.modality in seen:
            consent.ended_at = now
        seen.add(consent.modality)
    db.session.flush()
    for model in (Appointment, IntakeResponse, PatientFlag, Consent):
        db.session.execute(
            update(model)
            .where(model.patient_id.in_(others))
            .values(patient_id=primary.id)
            .execution_options(synchronize_session=False)
        )
