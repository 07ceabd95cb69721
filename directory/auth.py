"""Who the caller is: session users (Flask-Login) and API bearer tokens, and role checks."""

from __future__ import annotations

import logging
from datetime import UTC, timedelta
from functools import wraps

from flask import abort, g, request
from flask_login import current_user, login_required
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from directory.extensions import db, login_manager
from directory.models import ApiToken, Role, User
from directory.models.accounts import hash_token
from directory.models.base import utcnow

log = logging.getLogger(__name__)
# How fine-grained an API token's "last used" time is: one write a minute at most.
LAST_USED_PRECISION = timedelta(minutes=1)


@login_manager.user_loader
def load_user(identity: str) -> User | None:
    """Load a user from "id:session_token"; a changed token ends old sessions."""
    user_id, _, token = identity.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_token != token or user.disabled:
        return None
    return user


def role_required(*roles: Role, hide: bool = False):
    """Require a signed-in user with one of the roles; others get 403 (or 404 when hide=True)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(404 if hide else 403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


CONFIRM_FIRST = (
    "Please confirm your email address first: follow the link we emailed you. "
    "You can ask for a new link on your account page."
)


def confirmed_required(view):
    """Signed-in users whose email is confirmed; unconfirmed ones get 403 with how to confirm."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_confirmed:
            from directory.errors import error_response

            return error_response(403, CONFIRM_FIRST)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    """Admin pages answer 404 to everyone else, signed in or not."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_admin:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def bearer_user() -> User | None:
    """The user of the request's `Authorization: Bearer TOKEN`, or None.

    It never commits (nor flushes) the caller's session: the request owns its transaction.
    """
    if "api_user" in g:
        return g.api_user
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = None
    if scheme.lower() == "bearer" and token.strip():
        user_id = _use_token(token.strip())
        user = db.session.get(User, user_id) if user_id is not None else None
    g.api_user = user
    return user


def _use_token(plain: str) -> int | None:
    """The user id of an active token, noting when it was used, on a short connection of its own.

    The token is looked up on that connection before the request's session takes one, so a
    request never holds two connections at once (many API calls at once cannot drain the pool).
    "Last used" is written at most once a minute per token.
    """
    now = utcnow()
    try:
        with db.engine.begin() as connection:
            row = connection.execute(
                select(ApiToken.id, ApiToken.user_id, ApiToken.last_used_at)
                .join(User, User.id == ApiToken.user_id)
                .where(ApiToken.token_hash == hash_token(plain), ApiToken.revoked_at.is_(None), ~User.disabled)
            ).first()
            if row is None:
                return None
            last = row.last_used_at
            if last is not None and last.tzinfo is None:
                last = last.replace(tzinfo=UTC)  # SQLite gives naive UTC back
            if last is None or now - last >= LAST_USED_PRECISION:
                connection.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
            return row.user_id
    except SQLAlchemyError as error:
        # A busy database must not refuse the request over a timestamp: look the token up alone.
        log.warning("Could not record the use of an API token: %s", error)
        token = ApiToken.find_active(plain)
        return token.user_id if token is not None else None


def api_login_required(view):
    """API routes that need a token (or a signed-in browser session): 401 without."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = bearer_user()
        if user is None and current_user.is_authenticated:
            user = current_user._get_current_object()
        if user is None:
            abort(401)
        g.api_user = user
        return view(*args, **kwargs)

    return wrapped
