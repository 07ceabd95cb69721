"""The profile photo: uploading, removing, and serving it.

The new file is written before the row that names it is committed: if the commit fails the new
file is removed again, and the file it replaces is removed only once the commit has succeeded.
"""

from __future__ import annotations

from flask import abort, g, send_file
from flask_login import current_user

from directory.extensions import db
from directory.models import Practitioner
from directory.practitioners.forms import ActionForm, PhotoForm
from directory.practitioners.photos import PhotoError, photo_file, remove_photo, save_photo
from directory.practitioners.profile_links import directions_href, initials, results_url, tel_href
from directory.practitioners.views import action_or_400, bp, form_status, owner_required, refused, render_form, saved

# A photo's URL names its random file, so a new photo gets a new URL: browsers may keep one a year.
PUBLIC_CACHE = "public, max-age=31536000, immutable"

# The public profile's links and the photo's stand-in, for the templates.
for helper in (results_url, tel_href, directions_href, initials):
    bp.add_app_template_global(helper)


@bp.route("/dashboard/photo", methods=["GET", "POST"])
@owner_required
def edit_photo():
    """Upload (or replace) the profile photo."""
    form = PhotoForm()
    if not form.validate_on_submit():
        return _render(form, form_status(form))
    old_file = g.profile.photo_path
    try:
        new_file = save_photo(form.photo.data)
    except PhotoError as error:
        db.session.rollback()
        form.photo.errors.append(str(error))
        return _render(form, 400)
    g.profile.photo_path = new_file
    try:
        answer = saved("Your photo is saved.", "photo")
    except Exception:
        # The row was not saved: neither is the file just written for it.
        remove_photo(new_file)
        raise
    remove_photo(old_file)
    return answer


def _render(form, status: int):
    """The photo page: the current photo, the upload form and a remove button."""
    return render_form(
        form,
        "Your photo",
        status,
        template="practitioners/photo.html",
        multipart=True,
        p=g.profile,
        action=ActionForm(),
    )


@bp.post("/dashboard/photo/delete")
@owner_required
def delete_photo():
    """Remove the profile photo and its file."""
    action_or_400()
    stored = g.profile.photo_path
    if not stored:
        return refused("There is no photo to remove.", "photo")
    g.profile.photo_path = None
    answer = saved("Your photo is removed.", "photo")
    remove_photo(stored)
    return answer


@bp.get("/practitioners/<int:practitioner_id>/photo/<photo>")
def photo(practitioner_id: int, photo: str):
    """A practitioner's photo: public while the profile is listed, else for its owner and admins only."""
    practitioner = db.session.get(Practitioner, practitioner_id)
    if practitioner is None or not practitioner.photo_path or practitioner.photo_path != photo:
        abort(404)
    owner = current_user.is_authenticated and practitioner.user_id == current_user.id
    admin = current_user.is_authenticated and current_user.is_admin
    if not (practitioner.is_listed or owner or admin):
        abort(404)
    path = photo_file(photo)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=0)
    response.headers["Cache-Control"] = PUBLIC_CACHE if practitioner.is_listed else "private, no-store"
    return response
