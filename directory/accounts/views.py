"""Accounts: the blueprint and what its pages share (rate limits, form pages, link problems).

The routes live by job and register themselves on `bp`: signing up, in and out and the emailed
links in `signin_views`; the account page (email, password, API tokens, your data, deletion) in
`settings_views`.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from directory.accounts.forms import PASSWORD_HELP
from directory.accounts.tokens import LinkError

bp = Blueprint("accounts", __name__, url_prefix="/account")

# Rate limits, overridable in the config (Flask-Limiter syntax).
DEFAULT_LIMITS = {
    "LOGIN_RATE_LIMIT_PER_ADDRESS": "30 per 15 minutes",
    "LOGIN_RATE_LIMIT_PER_ACCOUNT": "10 per 15 minutes",
    "RESET_RATE_LIMIT_PER_ADDRESS": "10 per hour",
    "RESET_RATE_LIMIT_PER_ACCOUNT": "5 per hour",
    "SIGNUP_RATE_LIMIT_PER_ADDRESS": "20 per hour",
    "ACCOUNT_CHANGE_RATE_LIMIT": "10 per hour",
}


def config_limit(name: str):
    """A limit read from the config at request time, so tests and operators can change it."""
    return lambda: current_app.config.get(name, DEFAULT_LIMITS[name])


def user_key() -> str:
    """Rate-limit key of the signed-in user."""
    return f"user:{current_user.get_id().partition(':')[0]}" if current_user.is_authenticated else "anonymous"


def form_page(template: str, form, **context):
    """Render a form page: 400 when a submission was refused, 200 otherwise."""
    status = 400 if form.is_submitted() else 200
    return render_template(template, form=form, password_help=PASSWORD_HELP, **context), status


def link_problem(error: LinkError):
    """A page that explains a bad or expired link."""
    return render_template("accounts/link_problem.html", message=str(error), expired=error.expired), 400


# The routes of the account pages register themselves on `bp`.
from directory.accounts import settings_views, signin_views  # noqa: E402, F401
