"""The practitioner's dashboard and profile editor."""

from flask import Blueprint

bp = Blueprint("practitioners", __name__, url_prefix="/dashboard")
