"""Referrals from healthcare providers to practitioners."""

from flask import Blueprint

bp = Blueprint("referrals", __name__, url_prefix="/referrals")
