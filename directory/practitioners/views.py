"""The practitioner's dashboard and profile editor, and the public enquiry form's target.

Only the owner edits a profile: every editor route needs a signed-in practitioner (others
get 404), and every row it touches is looked up through `own_or_404`, which answers 404
for anyone else's id.
"""

from __future__ import annotations

from functools import wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from wtforms import StringField

from directory.accounts.service import claim_profile
from directory.auth import role_required
from directory.extensions import db, limiter
from directory.models import (
    Certification,
    CertifyingBody,
    Enquiry,
    PracticeLocation,
    ProfessionalLicense,
    Role,
    Training,
)
from directory.models.base import utcnow
from directory.practitioners import enquiries as enquiry_rules
from directory.practitioners.evidence import EvidenceError, evidence_file, remove_evidence, save_evidence
from directory.practitioners.forms import (
    ActionForm,
    BasicsForm,
    CertificationForm,
    ConditionsForm,
    EnquiryForm,
    LicenseForm,
    LocationForm,
    TrainingForm,
)
from directory.practitioners.lookups import all_conditions, get_listed_practitioner_or_404
from directory.practitioners.profiles import (
    ProfileError,
    create_profile,
    place_location,
    profile_status,
    publish,
    publish_problems,
    remove_location,
    unclaimed_profile_for,
    unpublish,
)
from directory.practitioners.rules import credential_facts, review_if_changed

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


def _back_to_dashboard(anchor: str = ""):
    return redirect(url_for("practitioners.dashboard") + (f"#{anchor}" if anchor else ""))


def _action_or_400() -> None:
    """One-click POST actions carry only a CSRF token (CSRFProtect checks it before the view)."""
    if not ActionForm().validate_on_submit():
        abort(400)


# Each view commits once, at its end, when every check has passed (`_saved`); a refusal rolls
# back whatever the view had changed (`_refused`). Nothing the views call commits by itself.


def _saved(message: str, anchor: str = ""):
    """Commit the request's changes, say so, and go back to the dashboard."""
    db.session.commit()
    flash(message, "success")
    return _back_to_dashboard(anchor)


def _refused(message: str, anchor: str = ""):
    """Undo the request's changes, say why, and go back to the dashboard."""
    db.session.rollback()
    flash(message, "warning")
    return _back_to_dashboard(anchor)


# --- Dashboard ----------------------------------------------------------------------------


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
    _action_or_400()
    try:
        create_profile(current_user)
    except ProfileError as error:
        return _refused(str(error))
    db.session.commit()
    flash("Your draft profile is ready. Fill it in, add a practice location, then publish it.", "success")
    return redirect(url_for("practitioners.edit_basics"))


@bp.post("/dashboard/accepting")
@owner_required
def toggle_accepting():
    """Switch "accepting new patients" on or off in one click."""
    _action_or_400()
    g.profile.accepting_new_patients = not g.profile.accepting_new_patients
    state = "accepting" if g.profile.accepting_new_patients else "not accepting"
    return _saved(f"Your profile now says you are {state} new patients.")


@bp.post("/dashboard/publish")
@owner_required
def publish_profile():
    """Publish the profile (needs a practice location and a confirmed email)."""
    _action_or_400()
    try:
        publish(g.profile, current_user)
    except ProfileError as error:
        return _refused(f"Your profile is not published yet. {error}")
    return _saved("Your profile is published." + (" It stays hidden while suspended." if g.profile.suspended else ""))


@bp.post("/dashboard/unpublish")
@owner_required
def unpublish_profile():
    """Take the profile off the site and out of search."""
    _action_or_400()
    unpublish(g.profile)
    return _saved("Your profile is no longer published.")


@bp.post("/dashboard/enquiries/<int:enquiry_id>/read")
@owner_required
def mark_enquiry_read(enquiry_id: int):
    """Mark an enquiry as read."""
    _action_or_400()
    enquiry = own_or_404(Enquiry, enquiry_id)
    enquiry.read_at = enquiry.read_at or utcnow()
    db.session.commit()
    return _back_to_dashboard("enquiries")


# --- Basics and conditions ----------------------------------------------------------------


@bp.route("/dashboard/profile", methods=["GET", "POST"])
@owner_required
def edit_basics():
    """Edit name, practice, bio, contact, sessions, fees, languages and accessibility."""
    form = BasicsForm(obj=g.profile)
    if form.validate_on_submit():
        _copy(form, g.profile, BASICS_FIELDS)
        g.profile.bio = (form.bio.data or "").strip()
        g.profile.languages = form.languages.data  # normalised by rules.languages
        return _saved("Your details are saved.")
    return _render_form(form, "Your details", status=400 if form.errors else 200)


@bp.route("/dashboard/profile/conditions", methods=["GET", "POST"])
@owner_required
def edit_conditions():
    """Choose the conditions the practitioner focuses on."""
    conditions = all_conditions()
    form = ConditionsForm()
    form.conditions.choices = [(c.slug, c.name) for c in conditions]
    if request.method == "GET":
        form.conditions.data = [c.slug for c in g.profile.conditions]
    if form.validate_on_submit():
        chosen = set(form.conditions.data or [])
        g.profile.conditions = [c for c in conditions if c.slug in chosen]
        return _saved("Your areas of focus are saved.")
    return _render_form(form, "Areas of focus", status=400 if form.errors else 200)


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


def _copy(form, obj, names) -> None:
    """Copy the named fields' data onto the object (text fields never become None)."""
    for name in names:
        value = getattr(form, name).data
        setattr(obj, name, "" if value is None and isinstance(getattr(form, name), StringField) else value)


def _render_form(form, title: str, status: int = 200, template: str = "practitioners/edit.html", **context):
    return render_template(template, form=form, title=title, **context), status


# --- Practice locations -------------------------------------------------------------------

ADDRESS_FIELDS = ("address", "city", "region", "postal_code", "country")


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
    # A new location has no values yet: let the form's defaults (country US) show.
    form = LocationForm(obj=location if location.id is not None else None)
    if form.validate_on_submit():
        before = {name: getattr(location, name) for name in ADDRESS_FIELDS}
        for name in ("label", *ADDRESS_FIELDS):
            setattr(location, name, getattr(form, name).data or "")
        changed = any(getattr(location, n) != before[n] for n in ADDRESS_FIELDS) or location.id is None
        try:
            place = place_location(location, changed, form.latitude.data, form.longitude.data)
        except ProfileError as error:
            db.session.rollback()
            target = next(
                (getattr(form, n) for n in ("address", "city", "postal_code") if getattr(form, n).data), form.city
            )
            target.errors.append(str(error))
            return _render_form(form, title, 400, "practitioners/location.html", location=None)
        if location.id is None:
            g.profile.locations.append(location)
        db.session.commit()
        if place is not None:
            flash(
                f"We placed this location at {place.label} ({place.latitude:.5f}, {place.longitude:.5f}). "
                "Check it on this page and correct the latitude and longitude if it is not right.",
                "info",
            )
        else:
            flash("The location is saved.", "success")
        return redirect(url_for("practitioners.edit_location", location_id=location.id))
    shown = location if location.id is not None else None
    return _render_form(form, title, 400 if form.errors else 200, "practitioners/location.html", location=shown)


@bp.post("/dashboard/locations/<int:location_id>/delete")
@owner_required
def delete_location(location_id: int):
    """Remove a practice location (a published profile keeps at least one)."""
    _action_or_400()
    location = own_or_404(PracticeLocation, location_id)
    try:
        remove_location(g.profile, location)
    except ProfileError as error:
        return _refused(str(error), "locations")
    return _saved("The location is removed.", "locations")


# --- Training and licences ----------------------------------------------------------------


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


def _edit_training(training: Training, title: str):
    form = TrainingForm(obj=training)
    if form.validate_on_submit():
        training.course = form.course.data
        training.provider = form.provider.data or ""
        training.hours = float(form.hours.data) if form.hours.data is not None else None
        training.completed_on = form.completed_on.data
        if training.id is None:
            g.profile.trainings.append(training)
        return _saved("The training is saved.", "training")
    return _render_form(form, title, 400 if form.errors else 200)


@bp.post("/dashboard/training/<int:training_id>/delete")
@owner_required
def delete_training(training_id: int):
    """Remove a recorded course."""
    _action_or_400()
    g.profile.trainings.remove(own_or_404(Training, training_id))
    return _saved("The training is removed.", "training")


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
    form = LicenseForm(obj=license_)
    if form.validate_on_submit():
        _copy(form, license_, ("profession", "jurisdiction", "number", "expires_on"))
        if license_.id is None:
            g.profile.licenses.append(license_)
        return _saved("The licence is saved.", "licences")
    return _render_form(form, title, 400 if form.errors else 200)


@bp.post("/dashboard/licences/<int:license_id>/delete")
@owner_required
def delete_license(license_id: int):
    """Remove a professional licence."""
    _action_or_400()
    g.profile.licenses.remove(own_or_404(ProfessionalLicense, license_id))
    return _saved("The licence is removed.", "licences")


# --- Certifications and evidence ----------------------------------------------------------


@bp.route("/dashboard/certifications/new", methods=["GET", "POST"])
@owner_required
def new_certification():
    """Add a CST credential (pending verification until an admin checks it)."""
    return _edit_certification(Certification(), "Add a certification")


@bp.route("/dashboard/certifications/<int:certification_id>", methods=["GET", "POST"])
@owner_required
def edit_certification(certification_id: int):
    """Edit a credential; any change sends it back to verification."""
    return _edit_certification(own_or_404(Certification, certification_id), "Edit certification")


def _edit_certification(cert: Certification, title: str):
    bodies = db.session.execute(db.select(CertifyingBody).order_by(CertifyingBody.name)).scalars().all()
    form = CertificationForm(obj=cert)
    form.set_registry(bodies)
    if not form.is_submitted():
        form.body.data = str(cert.body_id) if cert.body_id else None
    if form.validate_on_submit():
        before = credential_facts(cert) if cert.id is not None else None
        old_file = cert.evidence_path
        upload = form.evidence.data
        if upload is not None and getattr(upload, "filename", ""):
            try:
                cert.evidence_path, cert.evidence_name, cert.evidence_mimetype = save_evidence(upload)
            except EvidenceError as error:
                db.session.rollback()
                form.evidence.errors.append(str(error))
                return _render_form(form, title, 400, "practitioners/edit.html", multipart=True, cert=cert)
        cert.body_id = int(form.body.data)
        cert.credential = form.credential.data
        cert.credential_number = form.credential_number.data or ""
        cert.issued_on, cert.expires_on = form.issued_on.data, form.expires_on.data
        review_if_changed(cert, before)
        if cert.id is None:
            g.profile.certifications.append(cert)
        try:
            db.session.commit()
        except Exception:
            # The row was not saved: neither is the file just stored for it.
            if cert.evidence_path != old_file:
                remove_evidence(cert.evidence_path)
            raise
        if old_file and old_file != cert.evidence_path:
            remove_evidence(old_file)
        flash("The certification is saved. It shows as not yet verified until we have checked it.", "success")
        return _back_to_dashboard("certifications")
    return _render_form(form, title, 400 if form.errors else 200, multipart=True, cert=cert)


@bp.post("/dashboard/certifications/<int:certification_id>/delete")
@owner_required
def delete_certification(certification_id: int):
    """Remove a credential and its evidence file."""
    _action_or_400()
    cert = own_or_404(Certification, certification_id)
    stored = cert.evidence_path
    g.profile.certifications.remove(cert)
    db.session.commit()
    remove_evidence(stored)
    flash("The certification is removed.", "success")
    return _back_to_dashboard("certifications")


@bp.get("/dashboard/certifications/<int:certification_id>/evidence")
@login_required
def evidence(certification_id: int):
    """Download a certification's evidence file: its owner and admins only (404 for anyone else)."""
    cert = db.session.get(Certification, certification_id)
    owner = cert is not None and cert.practitioner.user_id == current_user.id
    if cert is None or not (owner or current_user.is_admin) or not cert.evidence_path:
        abort(404)
    path = evidence_file(cert.evidence_path)
    if path is None:
        abort(404)
    response = send_file(
        path, mimetype=cert.evidence_mimetype, as_attachment=True, download_name=cert.evidence_name or "evidence"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- Patient enquiries (public) -----------------------------------------------------------


def new_enquiry_form(practitioner) -> EnquiryForm:
    """A fresh enquiry form for a profile, stamped with the time it was shown."""
    form = EnquiryForm(formdata=None)
    form.started.data = enquiry_rules.start_token(practitioner.id)
    return form


@bp.app_context_processor
def enquiry_form_factory():
    """Let the profile page build the enquiry form it includes."""
    return {"new_enquiry_form": new_enquiry_form}


@bp.post("/practitioners/<int:practitioner_id>/enquiry")
@limiter.limit(lambda: current_app.config.get("ENQUIRY_RATE_LIMIT", "5 per hour"))
def send_enquiry(practitioner_id: int):
    """A patient writes to a published practitioner; stored, and the practitioner notified."""
    practitioner = get_listed_practitioner_or_404(practitioner_id)
    form = EnquiryForm()
    spam_error = None
    if form.validate_on_submit():
        try:
            enquiry_rules.check_spam(practitioner.id, form.website.data, form.started.data)
        except enquiry_rules.SpamSuspected as error:
            spam_error = str(error)
        else:
            enquiry_rules.record_enquiry(
                practitioner, form.name.data, form.email.data, form.phone.data, form.message.data
            )
            db.session.commit()
            flash(
                f"Thank you. Your message was sent to {practitioner.display_name}, who will reply to you directly.",
                "success",
            )
            return redirect(url_for("public.profile", practitioner_id=practitioner.id) + "#enquiry")
    if spam_error is None or "reload" in spam_error:
        form.started.data = enquiry_rules.start_token(practitioner.id)
    return (
        render_template(
            "public/profile.html",
            practitioner=practitioner,
            distances={},
            unit="km",
            enquiry_form=form,
            enquiry_error=spam_error or "Please correct the marked fields.",
        ),
        400,
    )
