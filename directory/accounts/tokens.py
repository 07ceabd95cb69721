"""Signed, expiring links for email confirmation, password reset and email change."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

# Each purpose has its own salt, so a link made for one can never be used for another,
# and its own lifetime (seconds), which the config may override.
PURPOSES = {
    "confirm-email": ("ACCOUNT_CONFIRM_MAX_AGE", 3 * 24 * 3600),
    "reset-password": ("PASSWORD_RESET_MAX_AGE", 3600),
    "change-email": ("EMAIL_CHANGE_MAX_AGE", 24 * 3600),
}


class LinkError(Exception):
    """A link that is forged, broken, expired or already used."""

    def __init__(self, message: str, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"accounts.{purpose}")


def max_age(purpose: str) -> int:
    """How long a link of this purpose stays valid, in seconds."""
    key, default = PURPOSES[purpose]
    return int(current_app.config.get(key, default))


def account_stamp(user) -> str:
    """A keyed fingerprint of the account's email and password hash, carried by emailed links.

    A link that carries it dies once either changes, so a reset link works once; but it does
    not depend on the session token, so signing out (which rotates that) leaves pending links
    working. Django's password-reset tokens use the same idea.
    """
    key = current_app.config["SECRET_KEY"]
    key = key if isinstance(key, bytes) else str(key).encode()
    message = f"{user.id}|{user.email}|{user.password_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def make_token(purpose: str, payload: dict) -> str:
    """Sign the payload for one purpose."""
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str) -> dict:
    """The payload of a valid, unexpired token of this purpose; LinkError otherwise."""
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age(purpose))
    except SignatureExpired as error:
        raise LinkError("That link has expired.", expired=True) from error
    except BadSignature as error:
        raise LinkError("That link is not valid.") from error
    if not isinstance(payload, dict):
        raise LinkError("That link is not valid.")
    return payload
