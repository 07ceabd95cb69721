"""Who the caller is: session users (Flask-Login) and API bearer tokens, and role checks."""

from __future__ import annotations

from functools import wraps

from flask import abort, g, request
from flask_login import current_user, login_required

from directory.extensions import db, login_manager
from directory.models import ApiToken, Role, User


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
    """The user of the request's `Authorization: Bearer TOKEN`, or None."""
    if "api_user" in g:
        return g.api_user
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = None
    if scheme.lower() == "bearer" and token.strip():
        user = ApiToken.find_user(token.strip())
        if user is not None:
            db.session.commit()  # records last_used_at
    g.api_user = user
    return user


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
