"""Referrals from healthcare providers to practitioners."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("referrals", __name__, url_prefix="/referrals")


@bp.get("/")
@login_required
def index():
    """Placeholder landing page (replaced by this area's work)."""
    return render_template("placeholder.html", title="Referrals")
