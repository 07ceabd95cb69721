"""The practitioner's area: the blueprint, who may edit, and how an editor view answers.

Only the owner edits a profile: every editor route needs a signed-in practitioner (others
get 404), and every row it touches is looked up through `own_or_404`, which answers 404
for anyone else's id. The routes live beside this module, one module per job:

- dashboard_views: the dashboard, creating and publishing a profile, its basics and conditions;
- location_views: practice locations (geocoded from their address);
- training_views: courses and professional licences;
- certification_views: CST credentials and their evidence files;
- enquiry_views: the patients' contact form on a public profile, and the inbox's "read" mark.
- photo_views: the profile photo (upload, remove, serve) and the public profile's action links.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_login import current_user
from wtforms import StringField

from directory.auth import role_required
from directory.extensions import db
from directory.models import Role
from directory.practitioners.forms import ActionForm

# No url_prefix: the editor lives under /dashboard, the enquiry form posts under /practitioners.
bp = Blueprint("practitioners", __name__)


# --- Who may edit -------------------------------------------------------------------------


def owner_required(view):
    """A signed-in practitioner with a profile; others get 404, practitioners without one go to the dashboard."""

    @wraps(view)
    @role_required(Role.PRACTITIONER, hide=True)
    def wrapped(*args, **kwargs):
        if current_user.practitioner is None:
            flash("Create your profile first.", "info")
            return redirect(url_for("practitioners.dashboard"))
        g.profile = current_user.practitioner
        return view(*args, **kwargs)

    return wrapped


def own_or_404(model, item_id: int):
    """A row of the signed-in practitioner's profile, or 404 (also for anyone else's row)."""
    item = db.session.get(model, item_id)
    if item is None or item.practitioner_id != g.profile.id:
        abort(404)
    return item


# --- How an editor view answers -------------------------------------------------------------


def back_to_dashboard(anchor: str = ""):
    """Redirect to the dashboard, at one of its sections if given."""
    return redirect(url_for("practitioners.dashboard") + (f"#{anchor}" if anchor else ""))


def action_or_400() -> None:
    """One-click POST actions carry only a CSRF token (CSRFProtect checks it before the view)."""
    if not ActionForm().validate_on_submit():
        abort(400)


# Each view commits once, at its end, when every check has passed (`saved`); a refusal rolls
# back whatever the view had changed (`refused`). Nothing the views call commits by itself.


def saved(message: str, anchor: str = ""):
    """Commit the request's changes, say so, and go back to the dashboard."""
    db.session.commit()
    flash(message, "success")
    return back_to_dashboard(anchor)


def refused(message: str, anchor: str = ""):
    """Undo the request's changes, say why, and go back to the dashboard."""
    db.session.rollback()
    flash(message, "warning")
    return back_to_dashboard(anchor)


def render_form(form, title: str, status: int = 200, template: str = "practitioners/edit.html", **context):
    """An editor page with its form; 400 when the form was refused."""
    return render_template(template, form=form, title=title, **context), status


def form_status(form) -> int:
    """400 when the form has errors to show, else 200."""
    return 400 if form.errors else 200


def copy_fields(form, obj, names) -> None:
    """Copy the named fields' data onto the object (text fields never become None)."""
    for name in names:
        value = getattr(form, name).data
        setattr(obj, name, "" if value is None and isinstance(getattr(form, name), StringField) else value)


# The routes register themselves on `bp`.
from directory.practitioners import (  # noqa: E402, F401
    certification_views,
    dashboard_views,
    enquiry_views,
    location_views,
    photo_views,
    training_views,
)
