"""Practice locations: added, edited (geocoded from the address, or placed by hand) and removed."""

from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_login import current_user

from directory.claims.service import submit_texts
from directory.extensions import db
from directory.models import PracticeLocation
from directory.practitioners.forms import LocationForm
from directory.practitioners.profiles import ProfileError, place_location, remove_location
from directory.practitioners.views import (
    action_or_400,
    bp,
    form_status,
    own_or_404,
    owner_required,
    refused,
    render_form,
    saved,
)

ADDRESS_FIELDS = ("address", "city", "region", "postal_code", "country")
# Saved as typed (normalised by their rules), never geocoded.
DETAIL_FIELDS = ("phone", "opening_hours")
# Texts patients read: through the claims screening (claims.service.submit_texts).
SCREENED_FIELDS = ("label", "hours_note")
TEMPLATE = "practitioners/location.html"


@bp.route("/dashboard/locations/new", methods=["GET", "POST"])
@owner_required
def new_location():
    """Add a practice location, geocoded from its address."""
    return _edit_location(PracticeLocation(), "Add a practice location")


@bp.route("/dashboard/locations/<int:location_id>", methods=["GET", "POST"])
@owner_required
def edit_location(location_id: int):
    """Edit a practice location; its position can be corrected by hand or on the map."""
    return _edit_location(own_or_404(PracticeLocation, location_id), "Edit practice location")


def _edit_location(location: PracticeLocation, title: str):
    """Show the location form, or save it: placed on the map, committed once, or refused whole."""
    # A new location has no values yet: let the form's defaults (country US) show.
    form = LocationForm(obj=location if location.id is not None else None)
    if not form.validate_on_submit():
        shown = location if location.id is not None else None
        return render_form(form, title, form_status(form), TEMPLATE, location=shown)
    before = {name: getattr(location, name) for name in ADDRESS_FIELDS}
    for name in (*ADDRESS_FIELDS, *DETAIL_FIELDS):
        setattr(location, name, getattr(form, name).data or "")
    texts = {name: (getattr(form, name).data or "").strip() for name in SCREENED_FIELDS}
    changed = any(getattr(location, n) != before[n] for n in ADDRESS_FIELDS) or location.id is None
    try:
        place = place_location(location, changed, form.latitude.data, form.longitude.data)
    except ProfileError as error:
        db.session.rollback()  # nothing of the edit is kept, not even the new street
        target = next(
            (getattr(form, n) for n in ("address", "city", "postal_code") if getattr(form, n).data), form.city
        )
        target.errors.append(str(error))
        return render_form(form, title, 400, TEMPLATE, location=None)
    if location.id is None:
        g.profile.locations.append(location)
        db.session.flush()
    flags = submit_texts(
        g.profile, {f"location:{location.id}:{name}": text for name, text in texts.items()}, current_user
    )
    db.session.commit()
    if flags:
        flash(
            "The location is saved, but its name or hours note is held for review: see your dashboard. "
            "Patients see the earlier text until you rephrase it or an administrator approves it.",
            "warning",
        )
    if place is not None:
        flash(
            f"We placed this location at {place.label} ({place.latitude:.5f}, {place.longitude:.5f}). "
            "Check it on this page and correct the latitude and longitude if it is not right.",
            "info",
        )
    else:
        flash("The location is saved.", "success")
    return redirect(url_for("practitioners.edit_location", location_id=location.id))


@bp.post("/dashboard/locations/<int:location_id>/delete")
@owner_required
def delete_location(location_id: int):
    """Remove a practice location (a published profile keeps at least one)."""
    action_or_400()
    location = own_or_404(PracticeLocation, location_id)
    try:
        remove_location(g.profile, location)
    except ProfileError as error:
        return refused(str(error), "locations")
    return saved("The location is removed.", "locations")
