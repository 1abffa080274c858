"""Staff accounts for admins: invite by email, resend or revoke, disable and re-enable.

No admin sets another person's password: an invited account has none until its owner
chooses one on the invitation link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from booking.domain.errors import InvalidInput, NotFound
from booking.extensions import db
from booking.mail import render_email
from booking.models import (
    STAFF_ROLES,
    AccountLink,
    AccountLinkPurpose,
    ApiToken,
    Practitioner,
    Role,
    User,
)
from booking.services.accounts import links
from booking.services.accounts.passwords import STAFF_PASSWORD_MIN, check_password_rule
from booking.services.accounts.reset import LINK_GONE, EmailedLink, set_password
from booking.services.accounts.sessions import end_all_sessions
from booking.services.accounts.sign_in import SignedIn, open_session
from booking.services.clinic.checks import audit_change, check_name
from booking.services.clinic.practitioners import check_account_email
from booking.services.platform import outbox
from booking.services.platform.audit import record_event

NO_PASSWORD = ""  # an invited account until its owner chooses one; never verifies
INVITE_DAYS = links.LINK_VALID[AccountLinkPurpose.invite].days
ROLE_NAMES = {
    Role.practitioner: "a practitioner",
    Role.receptionist: "a receptionist",
    Role.admin: "an admin",
}


@dataclass(frozen=True, slots=True)
class InviteValues:
    display_name: str
    email: str
    role: str


@dataclass(frozen=True)
class StaffRow:
    user: User
    invitation: AccountLink | None

    @property
    def invited(self) -> bool:
        """True until the person has chosen a password."""
        return self.user.password_hash == NO_PASSWORD


def staff_rows(*, now: datetime) -> list[StaffRow]:
    """Every staff account with its live invitation, if any, by name (2 queries)."""
    users = db.session.scalars(
        select(User).where(User.role.in_(STAFF_ROLES)).order_by(User.display_name, User.id)
    ).all()
    invitations = {
        link.user_id: link
        for link in db.session.scalars(
            select(AccountLink).where(
                AccountLink.purpose == AccountLinkPurpose.invite, AccountLink.expires_at > now
            )
        )
    }
    return [StaffRow(user, invitations.get(user.id)) for user in users]


def staff_user(user_id: int) -> User:
    """A staff account. Raises NotFound (patients' accounts are not the admin's to manage)."""
    user = db.session.get(User, user_id)
    if user is None or user.role not in STAFF_ROLES:
        raise NotFound("Account not found")
    return user


def invite(
    values: InviteValues,
    link: EmailedLink,
    *,
    actor: User,
    now: datetime,
    clinic_name: str,
) -> User:
    """Add a staff account with no password and email its owner an invitation link.

    Raises InvalidInput (with `field`) for an empty name, a malformed or taken address or
    a role that is not a staff role. A practitioner also gets a practitioner profile.
    """
    name = check_name(values.display_name, "display_name")
    email = check_account_email(values.email)
    role = next((r for r in STAFF_ROLES if r.value == values.role), None)
    if role is None:
        raise InvalidInput("Select what they will do", field="role")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise InvalidInput("There is already an account with this email address", field="email")
    user = User(
        email=email, role=role, display_name=name, password_hash=NO_PASSWORD, created_at=now
    )
    db.session.add(user)
    db.session.flush()
    if role == Role.practitioner:
        db.session.add(Practitioner(user_id=user.id, display_name=name, bio=""))
        db.session.flush()
    _send_invitation(user, link, actor=actor, now=now, clinic_name=clinic_name)
    _audit("account.invite", user, actor=actor, now=now, detail=str(role))
    return user


def invite_practitioner(
    values: InviteValues,
    link: EmailedLink,
    *,
    actor: User,
    now: datetime,
    clinic_name: str,
) -> Practitioner:
    """Invite a practitioner (`values.role` is ignored) and return their new profile."""
    user = invite(
        InviteValues(values.display_name, values.email, str(Role.practitioner)),
        link,
        actor=actor,
        now=now,
        clinic_name=clinic_name,
    )
    practitioner = db.session.scalar(select(Practitioner).where(Practitioner.user_id == user.id))
    if practitioner is None:  # invite adds it for a practitioner; this satisfies the checker
        raise NotFound("Practitioner not found")
    audit_change("setup.practitioner.create", practitioner, actor, now, ["display_name", "email"])
    return practitioner


def resend(
    user_id: int, link: EmailedLink, *, actor: User, now: datetime, clinic_name: str
) -> User:
    """A new invitation link (the older one stops working). Raises NotFound, or
    InvalidInput once the person has chosen a password."""
    user = staff_user(user_id)
    if user.password_hash != NO_PASSWORD:
        raise InvalidInput("They have already accepted the invitation")
    _send_invitation(user, link, actor=actor, now=now, clinic_name=clinic_name)
    _audit("account.invite_resend", user, actor=actor, now=now)
    return user


def revoke(user_id: int, *, actor: User, now: datetime) -> User:
    """Stop the invitation link; the account stays, without a password, to invite again."""
    user = staff_user(user_id)
    links.drop_links_of(user.id, AccountLinkPurpose.invite)
    _audit("account.invite_revoke", user, actor=actor, now=now)
    return user


def set_enabled(user_id: int, enabled: bool, *, actor: User, now: datetime) -> User:
    """Disable (sessions end, API tokens and links stop at once) or re-enable an account.

    Raises InvalidInput when an admin tries to disable their own account.
    """
    user = staff_user(user_id)
    if not enabled and user.id == actor.id:
        raise InvalidInput("You cannot disable your own account")
    user.is_enabled = enabled
    if not enabled:
        end_all_sessions(user.id, now=now)
        links.drop_links_of(user.id)
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    _audit("account.enable" if enabled else "account.disable", user, actor=actor, now=now)
    db.session.flush()
    return user


def invitation_link(token: str, *, now: datetime) -> AccountLink:
    """The live invitation link of an account still without a password. Raises NotFound."""
    link = links.live_link(AccountLinkPurpose.invite, token, now=now)
    if link is None or link.user is None or link.user.password_hash != NO_PASSWORD:
        raise NotFound("That link no longer works", LINK_GONE)
    return link


def check_staff_password(password: str) -> None:
    check_password_rule(password, minimum=STAFF_PASSWORD_MIN, field="new_password")


def accept(
    token: str,
    password: str,
    *,
    now: datetime,
    cost: tuple[int, int, int],
    ip_address: str | None,
) -> SignedIn:
    """Spend the invitation, set the chosen password and sign in. Raises NotFound
    (`link_gone`) or InvalidInput (field `new_password`); either changes nothing."""
    link = invitation_link(token, now=now)
    user = link.user
    if user is None:  # invitation_link refuses these; this satisfies the type checker
        raise NotFound("That link no longer works", LINK_GONE)
    check_staff_password(password)
    if not links.spend(link):
        raise NotFound("That link no longer works", LINK_GONE)
    set_password(user, password, now=now, cost=cost)
    signed_in = open_session(user, now=now, ip_address=ip_address)
    _audit("account.invite_accept", user, actor=user, now=now)
    db.session.flush()
    return signed_in


def _send_invitation(
    user: User, link: EmailedLink, *, actor: User, now: datetime, clinic_name: str
) -> None:
    links.replace_links(AccountLinkPurpose.invite, user.email, now=now)
    links.add_link(
        AccountLinkPurpose.invite,
        link.token,
        email=user.email,
        user_id=user.id,
        created_by_id=actor.id,
        now=now,
    )
    outbox.enqueue(
        kind="auth.invitation",
        recipient=user.email,
        subject=f"You are invited to {clinic_name}",
        body_text=render_email(
            "account_invitation",
            display_name=user.display_name,
            invited_by=actor.display_name,
            role_name=ROLE_NAMES[user.role],
            link=link.url,
            days=INVITE_DAYS,
            clinic_name=clinic_name,
        ),
        dedupe_key=f"invitation:{user.id}:{now.isoformat()}",
        now=now,
    )


def _audit(
    action: str, user: User, *, actor: User, now: datetime, detail: str | None = None
) -> None:
    record_event(action, actor=actor, now=now, object_type="user", object_id=user.id, detail=detail)
