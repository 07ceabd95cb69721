"""The dashboard: a practitioner's profile status and quick actions, and the profile's basics."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from directory.accounts.service import claim_profile
from directory.auth import role_required
from directory.extensions import db
from directory.models import Role
from directory.practitioners.forms import ActionForm, BasicsForm, ConditionsForm
from directory.practitioners.lookups import all_conditions
from directory.practitioners.profiles import (
    ProfileError,
    create_profile,
    profile_status,
    publish,
    publish_problems,
    unclaimed_profile_for,
    unpublish,
)
from directory.practitioners.views import (
    action_or_400,
    bp,
    copy_fields,
    form_status,
    owner_required,
    refused,
    render_form,
    saved,
)

BASICS_FIELDS = (
    "display_name",
    "practice_name",
    "phone",
    "website",
    "show_email",
    "session_minutes",
    "fee_min",
    "fee_max",
    "currency",
    "wheelchair_accessible",
)


@bp.get("/dashboard/")
@login_required
def dashboard():
    """A practitioner's profile status, quick actions, sections to edit and enquiry inbox."""
    if current_user.is_provider:
        return redirect(url_for("referrals.index"))
    if current_user.is_admin:
        return redirect(url_for("admin.index"))
    profile = current_user.practitioner
    claimable = None
    if profile is None:
        claimable = unclaimed_profile_for(current_user)
        if claimable is not None and current_user.is_confirmed:
            # Normally claimed on confirmation; a profile imported later is claimed here.
            profile = claim_profile(current_user)
    if profile is None:
        return render_template("practitioners/start.html", form=ActionForm(), claimable=claimable)
    page = render_template(
        "practitioners/dashboard.html",
        p=profile,
        status=profile_status(profile),
        problems=publish_problems(profile, current_user),
        action=ActionForm(),
        unread=sum(1 for e in profile.enquiries if e.read_at is None),
    )
    db.session.commit()  # a profile claimed above is kept once its page is ready
    return page


@bp.post("/dashboard/profile/create")
@role_required(Role.PRACTITIONER, hide=True)
def create():
    """Create the signed-in practitioner's draft profile."""
    action_or_400()
    try:
        create_profile(current_user)
    except ProfileError as error:
        return refused(str(error))
    db.session.commit()
    flash("Your draft profile is ready. Fill it in, add a practice location, then publish it.", "success")
    return redirect(url_for("practitioners.edit_basics"))


@bp.post("/dashboard/accepting")
@owner_required
def toggle_accepting():
    """Switch "accepting new patients" on or off in one click."""
    action_or_400()
    g.profile.accepting_new_patients = not g.profile.accepting_new_patients
    state = "accepting" if g.profile.accepting_new_patients else "not accepting"
    return saved(f"Your profile now says you are {state} new patients.")


@bp.post("/dashboard/publish")
@owner_required
def publish_profile():
    """Publish the profile (needs a practice location and a confirmed email)."""
    action_or_400()
    try:
        publish(g.profile, current_user)
    except ProfileError as error:
        return refused(f"Your profile is not published yet. {error}")
    return saved("Your profile is published." + (" It stays hidden while suspended." if g.profile.suspended else ""))


@bp.post("/dashboard/unpublish")
@owner_required
def unpublish_profile():
    """Take the profile off the site and out of search."""
    action_or_400()
    unpublish(g.profile)
    return saved("Your profile is no longer published.")


@bp.route("/dashboard/profile", methods=["GET", "POST"])
@owner_required
def edit_basics():
    """Edit name, practice, bio, contact, sessions, fees, languages and accessibility."""
    form = BasicsForm(obj=g.profile)
    if form.validate_on_submit():
        copy_fields(form, g.profile, BASICS_FIELDS)
        g.profile.bio = (form.bio.data or "").strip()
        g.profile.languages = form.languages.data  # normalised by rules.languages
        return saved("Your details are saved.")
    return render_form(form, "Your details", form_status(form))


@bp.route("/dashboard/profile/conditions", methods=["GET", "POST"])
@owner_required
def edit_conditions():
    """Choose the conditions the practitioner focuses on."""
    conditions = all_conditions()
    form = ConditionsForm()
    form.conditions.choices = [SelectChoice(c.slug, c.name) for c in conditions]
    if request.method == "GET":
        form.conditions.data = [c.slug for c in g.profile.conditions]
    if form.validate_on_submit():
        chosen = set(form.conditions.data or [])
        g.profile.conditions = [c for c in conditions if c.slug in chosen]
        return saved("Your areas of focus are saved.")
    return render_form(form, "Areas of focus", form_status(form))
