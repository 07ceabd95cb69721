"""Training (completed courses) and professional licences on a practitioner's profile."""

from __future__ import annotations

from flask import flash, g
from flask_login import current_user

from directory.claims.service import submit_texts
from directory.extensions import db
from directory.models import ProfessionalLicense, Training
from directory.practitioners.forms import LicenseForm, TrainingForm
from directory.practitioners.views import (
    action_or_400,
    back_to_dashboard,
    bp,
    copy_fields,
    form_status,
    own_or_404,
    owner_required,
    render_form,
    saved,
)


@bp.route("/dashboard/training/new", methods=["GET", "POST"])
@owner_required
def new_training():
    """Record a completed course."""
    return _edit_training(Training(), "Add training")


@bp.route("/dashboard/training/<int:training_id>", methods=["GET", "POST"])
@owner_required
def edit_training(training_id: int):
    """Edit a recorded course."""
    return _edit_training(own_or_404(Training, training_id), "Edit training")


# What a new course is called while its description waits for the claims review.
HELD_COURSE = "Course awaiting review"


def _edit_training(training: Training, title: str):
    """Show the course form, or save it and go back to the dashboard."""
    form = TrainingForm(obj=training)
    if form.validate_on_submit():
        training.hours = float(form.hours.data) if form.hours.data is not None else None
        training.completed_on = form.completed_on.data
        texts = {"course": form.course.data.strip(), "provider": (form.provider.data or "").strip()}
        if training.id is None:
            # A new course is named once screening has passed; until then it waits unnamed.
            training.course, training.provider = HELD_COURSE, ""
            g.profile.trainings.append(training)
            db.session.flush()
        flags = submit_texts(g.profile, {f"training:{training.id}:{k}": v for k, v in texts.items()}, current_user)
        if flags:
            db.session.commit()
            flash("The training is saved, but its description is held for review: see your dashboard.", "warning")
            return back_to_dashboard("held-texts")
        return saved("The training is saved.", "training")
    return render_form(form, title, form_status(form))


@bp.post("/dashboard/training/<int:training_id>/delete")
@owner_required
def delete_training(training_id: int):
    """Remove a recorded course."""
    action_or_400()
    g.profile.trainings.remove(own_or_404(Training, training_id))
    return saved("The training is removed.", "training")


@bp.route("/dashboard/licences/new", methods=["GET", "POST"])
@owner_required
def new_license():
    """Record a professional licence."""
    return _edit_license(ProfessionalLicense(), "Add a professional licence")


@bp.route("/dashboard/licences/<int:license_id>", methods=["GET", "POST"])
@owner_required
def edit_license(license_id: int):
    """Edit a professional licence."""
    return _edit_license(own_or_404(ProfessionalLicense, license_id), "Edit professional licence")


def _edit_license(license_: ProfessionalLicense, title: str):
    """Show the licence form, or save it and go back to the dashboard."""
    form = LicenseForm(obj=license_)
    if form.validate_on_submit():
        copy_fields(form, license_, ("profession", "jurisdiction", "number", "expires_on"))
        if license_.id is None:
            g.profile.licenses.append(license_)
        return saved("The licence is saved.", "licences")
    return render_form(form, title, form_status(form))


@bp.post("/dashboard/licences/<int:license_id>/delete")
@owner_required
def delete_license(license_id: int):
    """Remove a professional licence."""
    action_or_400()
    g.profile.licenses.remove(own_or_404(ProfessionalLicense, license_id))
    return saved("The licence is removed.", "licences")
