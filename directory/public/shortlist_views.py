"""The shortlist pages: save, remove and clear practitioners, and compare them side by side."""

from __future__ import annotations

from flask import abort, flash, has_request_context, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import NumberRange, Optional

from directory.practitioners.lookups import get_listed_practitioner_or_404
from directory.public import shortlist
from directory.public.views import bp, distances_from_search
from directory.safe_urls import safe_next
from directory.security import MAX_DB_ID


class ShortlistForm(FlaskForm):
    """Save or remove one practitioner (or clear all): only a CSRF token, an id and where to go back."""

    practitioner_id = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_DB_ID)])
    next = HiddenField()


@bp.app_context_processor
def shortlist_context() -> dict:
    """Templates ask `shortlisted()` for the saved ids (read only when a page asks)."""

    def shortlisted() -> list[int]:
        return shortlist.saved_ids(session) if has_request_context() else []

    return {"shortlisted": shortlisted, "shortlist_limit": shortlist.LIMIT}


def _checked_form() -> ShortlistForm:
    """The posted form, or 400 when it is malformed (CSRF failures are answered before this)."""
    form = ShortlistForm()
    if not form.validate_on_submit():
        abort(400, "That request could not be understood. Please go back and try again.")
    return form


def _back(form: ShortlistForm):
    """Back to the page the form was on when it is on this site, else to the shortlist."""
    return redirect(safe_next(form.next.data) or url_for("public.shortlist"))


def _practitioner_from(form: ShortlistForm):
    """The listed practitioner the form names, or 400/404."""
    if form.practitioner_id.data is None:
        abort(400, "Choose a practitioner to save or remove.")
    return get_listed_practitioner_or_404(form.practitioner_id.data)


@bp.get("/shortlist", endpoint="shortlist")
def shortlist_page():
    """The saved practitioners side by side, printable; with `lat`/`lon`/`unit` of a search, their distances."""
    practitioners = shortlist.listed_practitioners(session)
    unit, distances = distances_from_search([loc for p in practitioners for loc in p.locations])
    # Each practitioner's nearest location to the search the visitor came from (none without one).
    nearest = {
        p.id: min(distances[loc.id] for loc in p.locations)
        for p in practitioners
        if p.locations and all(loc.id in distances for loc in p.locations)
    }
    return render_template(
        "public/shortlist.html",
        practitioners=practitioners,
        form=ShortlistForm(),
        nearest=nearest,
        unit=unit,
        # The profile links keep the search (its point for distances, and the way back to it).
        carried={name: request.args[name] for name in ("lat", "lon", "unit", "from") if name in request.args},
    )


@bp.post("/shortlist/add")
def shortlist_add():
    """Save a practitioner to the visitor's shortlist (at most LIMIT)."""
    form = _checked_form()
    practitioner = _practitioner_from(form)
    try:
        added = shortlist.add(session, practitioner.id)
    except shortlist.ShortlistFull as full:
        flash(str(full), "warning")
        return _back(form)
    count = len(shortlist.saved_ids(session))
    if added:
        flash(f"Saved {practitioner.display_name} to your shortlist ({count} of {shortlist.LIMIT}).", "success")
    else:
        flash(f"{practitioner.display_name} is already on your shortlist.", "info")
    return _back(form)


@bp.post("/shortlist/remove")
def shortlist_remove():
    """Take a practitioner off the shortlist (also one no longer listed)."""
    form = _checked_form()
    if form.practitioner_id.data is None:
        abort(400, "Choose a practitioner to remove.")
    shortlist.remove(session, form.practitioner_id.data)
    flash("Removed from your shortlist.", "info")
    return _back(form)


@bp.post("/shortlist/clear")
def shortlist_clear():
    """Empty the shortlist."""
    form = _checked_form()
    shortlist.clear(session)
    flash("Your shortlist is now empty.", "info")
    return _back(form)
