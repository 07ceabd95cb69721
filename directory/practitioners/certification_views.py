"""CST credentials on a practitioner's profile, and their evidence files.

A credential's evidence file is stored before the row is committed: if the commit fails the new
file is removed again, and a replaced file is removed only once the commit has succeeded.
"""

from __future__ import annotations

from flask import abort, flash, g, send_file
from flask_login import current_user, login_required

from directory.extensions import db
from directory.models import Certification, CertifyingBody
from directory.practitioners.evidence import EvidenceError, evidence_file, remove_evidence, save_evidence
from directory.practitioners.forms import CertificationForm
from directory.practitioners.rules import credential_facts, review_if_changed
from directory.practitioners.views import (
    action_or_400,
    back_to_dashboard,
    bp,
    form_status,
    own_or_404,
    owner_required,
    render_form,
)


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


def _render(form, title: str, cert: Certification, status: int):
    """The credential form (a multipart form: it carries the evidence file)."""
    return render_form(form, title, status, multipart=True, cert=cert)


def _edit_certification(cert: Certification, title: str):
    """Show the credential form, or save it with its evidence file and go back to the dashboard."""
    bodies = db.session.execute(db.select(CertifyingBody).order_by(CertifyingBody.name)).scalars().all()
    form = CertificationForm(obj=cert)
    form.set_registry(bodies)
    if not form.is_submitted():
        form.body.data = str(cert.body_id) if cert.body_id else None
    if not form.validate_on_submit():
        return _render(form, title, cert, form_status(form))
    before = credential_facts(cert) if cert.id is not None else None
    old_file = cert.evidence_path
    upload = form.evidence.data
    if upload is not None and getattr(upload, "filename", ""):
        try:
            cert.evidence_path, cert.evidence_name, cert.evidence_mimetype = save_evidence(upload)
        except EvidenceError as error:
            db.session.rollback()
            form.evidence.errors.append(str(error))
            return _render(form, title, cert, 400)
    cert.body_id = int(form.body.data)
    cert.credential = form.credential.data
    cert.credential_number = form.credential_number.data or ""
    cert.issued_on, cert.expires_on = form.issued_on.data, form.expires_on.data
    review_if_changed(cert, before)
    if cert.id is None:
        g.profile.certifications.append(cert)
    _commit_keeping_one_file(cert, old_file)
    flash("The certification is saved. It shows as not yet verified until we have checked it.", "success")
    return back_to_dashboard("certifications")


def _commit_keeping_one_file(cert: Certification, old_file: str | None) -> None:
    """Commit the credential; then exactly one evidence file is left, the one its row names."""
    try:
        db.session.commit()
    except Exception:
        # The row was not saved: neither is the file just stored for it.
        if cert.evidence_path != old_file:
            remove_evidence(cert.evidence_path)
        raise
    if old_file and old_file != cert.evidence_path:
        remove_evidence(old_file)


@bp.post("/dashboard/certifications/<int:certification_id>/delete")
@owner_required
def delete_certification(certification_id: int):
    """Remove a credential and its evidence file."""
    action_or_400()
    cert = own_or_404(Certification, certification_id)
    stored = cert.evidence_path
    g.profile.certifications.remove(cert)
    db.session.commit()
    remove_evidence(stored)
    flash("The certification is removed.", "success")
    return back_to_dashboard("certifications")


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
