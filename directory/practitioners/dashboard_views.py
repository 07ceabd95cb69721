"""The dashboard: a practitioner's profile status and quick actions, and the profile's basics."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from directory.accounts.service import claim_profile
from directory.auth import role_required
from directory.claims.service import pending_change, request_review, review_summary, submit_texts
from directory.extensions import db
from directory.feedback.service import confirm_details as confirm_profile_details
from directory.feedback.service import open_corrections
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

# The texts patients read go through the claims screening (claims.service.submit_texts).
SCREENED_FIELDS = ("display_name", "practice_name", "bio")
BASICS_FIELDS = (
    "phone",
    "website",
    "show_email",
    "session_minutes",
    "fee_min",
    "fee_max",
    "currency",
    "wheelchair_accessible",
    "gender",
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
        review=review_summary(profile),
        open_corrections=open_corrections(profile),
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
    """Edit name, practice, bio, contact, sessions, fees, languages, accessibility and gender."""
    review = review_summary(g.profile)
    # Held text shows in the form, so that the practitioner rephrases what they wrote.
    form = BasicsForm(obj=g.profile)
    if request.method == "GET":
        for name in SCREENED_FIELDS:
            if name in review["pending"]:
                getattr(form, name).data = review["pending"][name]
    if form.validate_on_submit():
        copy_fields(form, g.profile, BASICS_FIELDS)
        g.profile.languages = form.languages.data  # normalised by rules.languages
        texts = {name: (getattr(form, name).data or "").strip() for name in SCREENED_FIELDS}
        flags = submit_texts(g.profile, texts, current_user)
        if flags:
            db.session.commit()
            flash(
                "Your details are saved, but some of your text is held for review: see below. "
                "Patients keep seeing your earlier text until you rephrase it or an administrator approves it.",
                "warning",
            )
            return redirect(url_for("practitioners.edit_basics") + "#held-texts")
        return saved("Your details are saved.")
    return render_form(
        form, "Your details", form_status(form), "practitioners/edit_basics.html", review=review, action=ActionForm()
    )


@bp.post("/dashboard/review/request")
@owner_required
def request_text_review():
    """Ask an administrator to look at held text as it is, rather than rephrasing it."""
    action_or_400()
    change = pending_change(g.profile)
    if change is None:
        return refused("Nothing of yours is waiting for review.")
    request_review(change, current_user)
    return saved("An administrator will review your text; you will get an email either way.")


@bp.post("/dashboard/confirm-details")
@owner_required
def confirm_details():
    """One click: the practitioner says every detail of their profile is current."""
    action_or_400()
    confirm_profile_details(g.profile, current_user)
    return saved("Thank you: your profile now says your details were confirmed today.")


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
