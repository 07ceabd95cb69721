"""Admin: verification queues, moderation, audit."""

from flask import Blueprint, render_template

from directory.auth import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@admin_required
def index():
    """Placeholder landing page (replaced by the admin area's work)."""
    return render_template("placeholder.html", title="Administration")
