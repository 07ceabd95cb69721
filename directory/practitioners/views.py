"""The practitioner's dashboard and profile editor."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("practitioners", __name__, url_prefix="/dashboard")


@bp.get("/")
@login_required
def dashboard():
    """Placeholder landing page (replaced by this area's work)."""
    return render_template("placeholder.html", title="Your dashboard")
