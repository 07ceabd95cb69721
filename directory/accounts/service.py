"""Account rules: sign up, confirm, sign in, reset and change credentials, claim a profile.

These functions know nothing about requests: they change and flush; the views and CLI
commands that call them commit once, at their end.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from directory.accounts.emails import email_problem, normalize_email
from directory.accounts.passwords import burn_time, hash_password, needs_rehash, password_problem, verify_password
from directory.accounts.tokens import LinkError, account_stamp, make_token, read_token
from directory.extensions import db
from directory.mail import queue_mail, site_url
from directory.models import ApiToken, Practitioner, Role, User
from directory.models.accounts import ProviderStatus
from directory.models.base import utcnow
from directory.practitioners.profiles import unclaimed_profile_for


class AccountError(Exception):
    """A request that the account rules refuse, with a message for the user.

    `field` names the form field the message belongs to ("email" or "password").
    """

    def __init__(self, message: str, field: str = "password"):
        super().__init__(message)
        self.field = field


def check_email(email: str) -> str:
    """The address normalised for storing, or AccountError when the accounts' email rule refuses it."""
    problem = email_problem(email)
    if problem is not None:
        raise AccountError(f"{normalize_email(email)!r} is not an email address: {problem}", field="email")
    return normalize_email(email)


def find_user(email: str) -> User | None:
    """The account with this email, or None.

    Emails are stored lower-cased (see User.email), so the plain comparison uses the unique index.
    """
    return db.session.execute(select(User).where(User.email == normalize_email(email))).scalar_one_or_none()


def rotate_session_token(user: User) -> None:
    """Give the user a new session token: every session and remember-me cookie of the account ends.

    Emailed links do not depend on it (they carry `account_stamp`), so signing out leaves a
    pending reset or email-change link working.
    """
    user.session_token = secrets.token_hex(16)


def set_password(user: User, password: str) -> None:
    """Check and store a new password, ending the user's other sessions."""
    problem = password_problem(password, user.email)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    rotate_session_token(user)


# --- Sign up and confirmation -------------------------------------------------------------


def register(email: str, password: str, role: Role, **details) -> User | None:
    """Create an unconfirmed account and mail its confirmation link.

    When the email already has an account, nothing is created and the owner is told by email
    instead, so the page answers the same either way (no account enumeration). Returns the
    new user, or None.
    """
    email = check_email(email)
    if role not in (Role.PRACTITIONER, Role.PROVIDER):
        raise AccountError("Choose practitioner or healthcare provider.")
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem)
    if find_user(email) is not None:
        hash_password(password)  # same work as a real sign-up
        queue_mail(
            email,
            "Someone tried to sign up with your address",
            "account_exists",
            login_url=site_url("accounts.login"),
            reset_url=site_url("accounts.forgot_password"),
        )
        return None
    user = User(email=email, role=role, password_hash=hash_password(password))
    allowed = {"name", "profession", "organization", "phone", "registration_number"}
    for key, value in details.items():
        if key in allowed:
            setattr(user, key, (value or "").strip())
    if role == Role.PROVIDER:
        user.provider_status = ProviderStatus.PENDING
    db.session.add(user)
    db.session.flush()
    send_confirmation(user)
    return user


def send_confirmation(user: User) -> None:
    """Mail the user a link that confirms their email address."""
    token = make_token("confirm-email", {"uid": user.id, "email": user.email})
    queue_mail(
        user.email,
        "Confirm your email address",
        "confirm_email",
        user=user,
        confirm_url=site_url("accounts.confirm", token=token),
    )


def confirm_email(token: str) -> User:
    """Confirm the address a link was sent to and claim a matching profile; LinkError if bad."""
    payload = read_token("confirm-email", token)
    user = db.session.get(User, payload.get("uid") or 0)
    if user is None or user.email != payload.get("email"):
        raise LinkError("That link is not valid any more.")
    if user.confirmed_at is None:
        user.confirmed_at = utcnow()
    claim_profile(user)
    return user


def claim_profile(user: User) -> Practitioner | None:
    """Attach the unclaimed profile with the user's email to a confirmed practitioner."""
    if not user.is_practitioner or not user.is_confirmed:
        return None
    if user.practitioner is not None:
        return user.practitioner
    profile = unclaimed_profile_for(user)
    if profile is not None:
        profile.user = user
    return profile


# --- Sign in and passwords ----------------------------------------------------------------


def authenticate(email: str, password: str) -> User | None:
    """The user whose email and password these are, or None (taking as long either way)."""
    user = find_user(email)
    if user is None:
        burn_time(password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def send_password_reset(email: str) -> None:
    """Mail a reset link when the email has an account; silently nothing otherwise."""
    user = find_user(email)
    if user is None or user.disabled:
        return
    # The account stamp in the payload makes the link single-use: it changes with the password.
    token = make_token("reset-password", {"uid": user.id, "st": account_stamp(user)})
    queue_mail(
        user.email,
        "Reset your password",
        "reset_password",
        user=user,
        reset_url=site_url("accounts.reset_password", token=token),
    )


def user_for_reset(token: str) -> User:
    """The user a reset link is for, while it is unused and unexpired; LinkError otherwise."""
    payload = read_token("reset-password", token)
    user = db.session.get(User, payload.get("uid") or 0)
    if user is None or user.disabled or not secrets.compare_digest(account_stamp(user), str(payload.get("st", ""))):
        raise LinkError("That link has already been used or is no longer valid.")
    return user


def reset_password(token: str, password: str) -> User:
    """Set a new password through a reset link; the link then stops working."""
    user = user_for_reset(token)
    set_password(user, password)
    # The link arrived by email, which proves the address.
    if user.confirmed_at is None:
        user.confirmed_at = utcnow()
        claim_profile(user)
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change the password after checking the current one."""
    if not verify_password(user.password_hash, current_password):
        raise AccountError("Your current password is not right.")
    set_password(user, new_password)


# --- Email change ---------------------------------------------------------------------------


def request_email_change(user: User, password: str, new_email: str) -> None:
    """Mail a confirmation link to the new address; the change happens when it is followed."""
    if not verify_password(user.password_hash, password):
        raise AccountError("Your password is not right.")
    new_email = check_email(new_email)
    if new_email == user.email:
        raise AccountError("That is already your email address.", field="email")
    token = make_token("change-email", {"uid": user.id, "email": new_email, "st": account_stamp(user)})
    queue_mail(
        new_email,
        "Confirm your new email address",
        "change_email",
        user=user,
        new_email=new_email,
        confirm_url=site_url("accounts.confirm_email_change", token=token),
    )


def confirm_email_change(token: str) -> User:
    """Switch the account to the confirmed new address and end its other sessions."""
    payload = read_token("change-email", token)
    user = db.session.get(User, payload.get("uid") or 0)
    if user is None or not secrets.compare_digest(account_stamp(user), str(payload.get("st", ""))):
        raise LinkError("That link has already been used or is no longer valid.")
    new_email = normalize_email(str(payload.get("email", "")))
    if find_user(new_email) is not None:
        raise LinkError("That address already belongs to another account.")
    old_email = user.email
    user.email = new_email
    user.confirmed_at = utcnow()
    rotate_session_token(user)
    queue_mail(old_email, "Your email address was changed", "email_changed", user=user, new_email=new_email)
    return user


# --- Operators and API tokens ----------------------------------------------------------------


def create_user(email: str, role: Role, password: str, name: str = "") -> User:
    """Create a confirmed account (operators' CLI); a provider starts verified."""
    email = check_email(email)
    if find_user(email) is not None:
        raise AccountError(f"An account with {email} already exists.")
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem)
    user = User(email=email, role=role, name=name, password_hash=hash_password(password), confirmed_at=utcnow())
    if role == Role.PROVIDER:
        user.provider_status = ProviderStatus.VERIFIED
    db.session.add(user)
    db.session.flush()
    claim_profile(user)
    return user


def active_api_tokens(user: User) -> list[ApiToken]:
    """The user's tokens that still work, newest first."""
    return (
        db.session.execute(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
        .scalars()
        .all()
    )


def revoke_api_token(user: User, token_id: int) -> bool:
    """Revoke one of the user's own active tokens; False when there is no such token."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    return True
