"""Forgot your password: ask for a reset link by email, then choose a new password.

The request answers the same whether or not an account holds the address, and does the
same work either way (look-up, older links replaced, the email's body rendered); only a
known, enabled account gets a stored link and a queued email.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from booking.domain.errors import NotFound
from booking.extensions import db
from booking.mail import render_email
from booking.models import AccountLink, AccountLinkPurpose, SignInThrottle, User
from booking.services.accounts import links
from booking.services.accounts.password_change import password_changed
from booking.services.accounts.passwords import check_new_password, hash_password
from booking.services.accounts.sessions import end_all_sessions
from booking.services.accounts.sign_in import SignedIn, open_session, throttle_key
from booking.services.platform import outbox
from booking.services.platform.emails import normalise_email

LINK_GONE = "link_gone"
RESET_MINUTES = int(links.LINK_VALID[AccountLinkPurpose.reset].total_seconds() // 60)


@dataclass(frozen=True)
class EmailedLink:
    """A link the view built: the raw token and the full URL that carries it."""

    token: str
    url: str


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def request_reset(
    email: str, link: EmailedLink, *, now: datetime, clinic_name: str, send: bool = True
) -> None:
    """Email a reset link when an enabled account holds `email`; else do the same, send nothing.

    `send=False` (the address's request budget is spent) sends nothing either way.
    """
    address = normalise_email(email)
    user = user_by_email(address)
    body = render_email(
        "password_reset",
        display_name=user.display_name if user else address,
        link=link.url,
        minutes=RESET_MINUTES,
        clinic_name=clinic_name,
    )
    links.replace_links(AccountLinkPurpose.reset, address, now=now)
    if user is None or not user.is_enabled or not send:
        links.add_decoy(AccountLinkPurpose.reset, link.token, email=address, now=now)
        return
    links.add_link(AccountLinkPurpose.reset, link.token, email=address, user_id=user.id, now=now)
    outbox.enqueue(
        kind="auth.password_reset",
        recipient=user.email,
        subject=f"Reset your password – {clinic_name}",
        body_text=body,
        dedupe_key=f"password-reset:{user.id}:{now.isoformat()}",
        now=now,
    )


def reset_link(token: str, *, now: datetime) -> AccountLink:
    """The live reset link with this token. Raises NotFound (code `link_gone`)."""
    link = links.live_link(AccountLinkPurpose.reset, token, now=now)
    if link is None:
        raise NotFound("That link no longer works", LINK_GONE)
    return link


def reset_password(
    token: str,
    new_password: str,
    *,
    now: datetime,
    cost: tuple[int, int, int],
    ip_address: str | None,
    request_id: str | None,
    clinic_name: str,
) -> SignedIn:
    """Spend the link and set the new password; return the new session (pending for staff who
    still owe their second step).

    Raises NotFound (`link_gone`) for a link that is not live, and InvalidInput (field
    `new_password`) for a password the role's rule refuses; either changes nothing. On
    success every other session of the user is revoked, the brute-force counter is cleared,
    an `auth.password_reset` audit row is added and the "password changed" email queued.
    """
    link = reset_link(token, now=now)
    user = link.user
    if user is None:  # live_link refuses these; this satisfies the type checker
        raise NotFound("That link no longer works", LINK_GONE)
    check_new_password(new_password, role=user.role)
    if not links.spend(link):
        raise NotFound("That link no longer works", LINK_GONE)
    set_password(user, new_password, now=now, cost=cost)
    signed_in = open_session(user, now=now, ip_address=ip_address)
    password_changed(
        user,
        "auth.password_reset",
        now=now,
        ip_address=ip_address,
        request_id=request_id,
        clinic_name=clinic_name,
    )
    return signed_in


def set_password(user: User, password: str, *, now: datetime, cost: tuple[int, int, int]) -> None:
    """Replace a password (checked by the caller), sign out everywhere, clear the counter."""
    user.password_hash = hash_password(password, cost=cost)
    end_all_sessions(user.id, now=now)
    links.drop_links_of(user.id, AccountLinkPurpose.reset)
    db.session.execute(
        delete(SignInThrottle).where(SignInThrottle.email_hash == throttle_key(user.email))
    )
