"""The verification queues: credentials and healthcare providers."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from directory.admin import verification
from directory.admin.forms import ConfirmForm, RejectForm, VerifyCertificationForm, with_unique_ids
from directory.admin.views import bp
from directory.extensions import db
from directory.models import Certification, Role, User

# Evidence types shown inline (the practitioners area accepts only these, judged from the content).
INLINE_EVIDENCE = {"application/pdf", "image/png", "image/jpeg"}
# The inline evidence response may be framed by the queue page, and runs nothing of its own.
EVIDENCE_CSP = "default-src 'none'; img-src 'self'; frame-ancestors 'self'"


def evidence_url(cert: Certification) -> str | None:
    """The link that shows a certification's evidence inline in the queue, if it has a file."""
    if not cert.evidence_path or cert.evidence_mimetype not in INLINE_EVIDENCE:
        return None
    return url_for("admin.credential_evidence", certification_id=cert.id)


def download_url(cert: Certification) -> str | None:
    """The download link of the evidence (served by the practitioners area), if any."""
    if not cert.evidence_path:
        return None
    try:
        return url_for("practitioners.evidence", certification_id=cert.id)
    except BuildError:  # the practitioners area does not serve it
        return None


def _render_credentials(forms: dict | None = None, status: int = 200):
    certs = verification.pending_certifications()
    forms = forms or {}
    rows = [
        (
            cert,
            with_unique_ids(forms.get(("verify", cert.id)) or VerifyCertificationForm(formdata=None), f"v{cert.id}"),
            with_unique_ids(forms.get(("reject", cert.id)) or RejectForm(formdata=None), f"r{cert.id}"),
        )
        for cert in certs
    ]
    return render_template(
        "admin/credentials.html", rows=rows, evidence_url=evidence_url, download_url=download_url
    ), status


def _certification_or_404(certification_id: int, lock: bool = False) -> Certification:
    # A decision locks the row (on PostgreSQL), so two admins cannot both decide the same credential.
    cert = db.session.get(Certification, certification_id, with_for_update=lock)
    if cert is None:
        abort(404)
    return cert


@bp.get("/credentials")
def credentials():
    """The credential queue: every pending certification, oldest first, with its evidence."""
    return _render_credentials()


@bp.get("/credentials/<int:certification_id>/evidence")
def credential_evidence(certification_id: int):
    """A certification's evidence file, inline, for the queue page to frame (admins only)."""
    from directory.practitioners.evidence import evidence_file

    cert = _certification_or_404(certification_id)
    path = evidence_file(cert.evidence_path) if cert.evidence_path else None
    if path is None or cert.evidence_mimetype not in INLINE_EVIDENCE:
        abort(404)
    response = send_file(path, mimetype=cert.evidence_mimetype, download_name=cert.evidence_name or "evidence")
    response.headers["Content-Disposition"] = "inline"
    response.headers["Content-Security-Policy"] = EVIDENCE_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/credentials/<int:certification_id>/verify")
def verify_credential(certification_id: int):
    """Verify a pending credential, saying how it was checked."""
    cert = _certification_or_404(certification_id, lock=True)
    form = VerifyCertificationForm()
    if not form.validate_on_submit():
        return _render_credentials({("verify", cert.id): form}, 400)
    try:
        verification.verify_certification(cert, current_user, form.method.data, form.note.data or "")
    except verification.QueueError as error:
        flash(str(error), "warning")
        return _render_credentials(status=409)
    db.session.commit()
    flash(f"{cert.credential} of {cert.practitioner.display_name} verified ({form.method.data}).", "success")
    return redirect(url_for("admin.credentials"), 303)


@bp.post("/credentials/<int:certification_id>/reject")
def reject_credential(certification_id: int):
    """Reject a pending credential with a reason the practitioner reads."""
    cert = _certification_or_404(certification_id, lock=True)
    form = RejectForm()
    if not form.validate_on_submit():
        return _render_credentials({("reject", cert.id): form}, 400)
    try:
        verification.reject_certification(cert, current_user, form.reason.data)
    except verification.QueueError as error:
        flash(str(error), "warning")
        return _render_credentials(status=409)
    db.session.commit()
    flash(f"{cert.credential} of {cert.practitioner.display_name} rejected; the practitioner is told why.", "success")
    return redirect(url_for("admin.credentials"), 303)


def _render_providers(forms: dict | None = None, status: int = 200):
    forms = forms or {}
    rows = [
        (
            user,
            with_unique_ids(ConfirmForm(formdata=None), f"v{user.id}"),
            with_unique_ids(forms.get(user.id) or RejectForm(formdata=None), f"r{user.id}"),
        )
        for user in verification.pending_providers()
    ]
    return render_template("admin/providers.html", rows=rows), status


def _provider_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id, with_for_update=True)
    if user is None or user.role != Role.PROVIDER:
        abort(404)
    return user


@bp.get("/providers")
def providers():
    """The provider queue: pending healthcare-provider accounts with their registration numbers."""
    return _render_providers()


@bp.post("/providers/<int:user_id>/verify")
def verify_provider(user_id: int):
    """Verify a healthcare provider: they may send referrals from now on."""
    user = _provider_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        return _render_providers(status=400)
    try:
        verification.decide_provider(user, current_user, verified=True)
    except verification.QueueError as error:
        flash(str(error), "warning")
        return _render_providers(status=409)
    db.session.commit()
    flash(f"{user.display_name} is verified and may now refer patients.", "success")
    return redirect(url_for("admin.providers"), 303)


@bp.post("/providers/<int:user_id>/reject")
def reject_provider(user_id: int):
    """Reject a healthcare provider account with a reason."""
    user = _provider_or_404(user_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _render_providers({user.id: form}, 400)
    try:
        verification.decide_provider(user, current_user, verified=False, reason=form.reason.data)
    except verification.QueueError as error:
        flash(str(error), "warning")
        return _render_providers(status=409)
    db.session.commit()
    flash(f"{user.display_name} was rejected; they are told why.", "success")
    return redirect(url_for("admin.providers"), 303)
