"""Accounts: sign up, confirm, sign in and out, reset and change password, API tokens."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/account")
