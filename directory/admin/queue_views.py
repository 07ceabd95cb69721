"""The verification queues: credentials and healthcare providers."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from wtforms import SelectChoice

from directory.admin import credential_queue, verification
from directory.admin.forms import ConfirmForm, QueueFilterForm, RejectForm, VerifyCertificationForm, with_unique_ids
from directory.admin.views import bp
from directory.extensions import db
from directory.models import Certification, CertifyingBody, Credential, Role, User

# Evidence types shown inline (the practitioners area accepts only these, judged from the content).
INLINE_EVIDENCE = {"application/pdf", "image/png", "image/jpeg"}
# The inline evidence response may be framed by the queue page, and runs nothing of its own.
EVIDENCE_CSP = "default-src 'none'; img-src 'self'; frame-ancestors 'self'"


def _queue_form(args) -> tuple[QueueFilterForm, credential_queue.QueueFilter | None]:
    """The queue's filter form read from `args`, and its filter (None when the arguments are invalid)."""
    form = QueueFilterForm(args)
    bodies = db.session.execute(select(CertifyingBody.id, CertifyingBody.name).order_by(CertifyingBody.name)).all()
    form.body.choices = [SelectChoice("", "Any body")] + [SelectChoice(str(i), name) for i, name in bodies]
    codes = db.session.execute(select(Credential.code).distinct().order_by(Credential.code)).scalars().all()
    form.credential.choices = [SelectChoice("", "Any credential")] + [SelectChoice(code) for code in codes]
    return form, (form.queue_filter() if form.validate() else None)


def _render_credentials(args, forms: dict | None = None, status: int = 200, show: Certification | None = None):
    """The queue page for these query arguments; `forms` keeps what was typed into a refused form."""
    filter_form, queue = _queue_form(args)
    if queue is None:
        status = 400
        page = credential_queue.QueuePage(items=[], page=1, total=0)
    else:
        page = credential_queue.queue_page(queue, filter_form.page.data or 1)
    certs = list(page.items)
    if show is not None and show not in certs:  # a refused form stays in view, whatever the page
        certs.insert(0, show)
    forms = forms or {}
    blank_verify, blank_reject = VerifyCertificationForm(formdata=None), RejectForm(formdata=None)
    rows = [
        (cert, forms.get(("verify", cert.id)) or blank_verify, forms.get(("reject", cert.id)) or blank_reject)
        for cert in certs
    ]
    filters = filter_form.args() if queue is not None else {}
    return render_template(
        "admin/credentials.html",
        rows=rows,
        page=page,
        filter_form=filter_form,
        filters=filters,
        # The decision forms send the queue's place along, so the next item follows in the same view.
        place={**filters, **({"page": page.page} if page.page > 1 else {})},
        opened=verification.opened_evidence_ids(certs, current_user),
        methods=list(verification.METHODS.items()),
        token=generate_csrf(),
        evidence_url=evidence_url,
    ), status


def evidence_url(cert: Certification) -> str | None:
    """The admin's link to a certification's evidence file (opening it is recorded), if it has one."""
    if not cert.evidence_path:
        return None
    return url_for("admin.credential_evidence", certification_id=cert.id)


def _certification_or_404(certification_id: int, lock: bool = False) -> Certification:
    # A decision locks the row (on PostgreSQL), so two admins cannot both decide the same credential.
    cert = db.session.get(Certification, certification_id, with_for_update=lock)
    if cert is None:
        abort(404)
    return cert


def _next_item(cert: Certification):
    """After a decision: the next pending credential of the same filtered queue, on its page."""
    filter_form, queue = _queue_form(request.args)
    args = filter_form.args() if queue is not None else {}
    found = credential_queue.next_in_queue(queue or credential_queue.QueueFilter(), cert)
    if found is None:
        flash("That was the last credential waiting in this view of the queue.", "info")
        return redirect(url_for("admin.credentials", **args), 303)
    next_id, page = found
    if page > 1:
        args["page"] = page
    return redirect(url_for("admin.credentials", **args, _anchor=f"cert-{next_id}"), 303)


@bp.get("/credentials")
def credentials():
    """The credential queue: pending certifications, oldest first, 50 a page, filtered and searched."""
    return _render_credentials(request.args)


@bp.get("/credentials/<int:certification_id>/evidence")
def credential_evidence(certification_id: int):
    """A certification's evidence file for an admin; the audit log records that this admin opened it."""
    from directory.practitioners.evidence import evidence_file

    cert = _certification_or_404(certification_id)
    path = evidence_file(cert.evidence_path) if cert.evidence_path else None
    if path is None:
        abort(404)
    verification.record_evidence_opened(cert, current_user)
    db.session.commit()
    inline = cert.evidence_mimetype in INLINE_EVIDENCE
    response = send_file(
        path,
        mimetype=cert.evidence_mimetype if inline else "application/octet-stream",
        download_name=cert.evidence_name or "evidence",
        as_attachment=not inline,
    )
    if inline:
        response.headers["Content-Disposition"] = "inline"
    response.headers["Content-Security-Policy"] = EVIDENCE_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/credentials/<int:certification_id>/verify")
def verify_credential(certification_id: int):
    """Verify a pending credential, saying how it was checked and with what; then the next one."""
    cert = _certification_or_404(certification_id, lock=True)
    form = VerifyCertificationForm()
    if form.validate_on_submit():
        try:
            verification.verify_certification(cert, current_user, form.check())
        except verification.VerificationRefused as refused:
            for name, message in refused.problems.items():
                form[name].errors.append(message)
        except verification.QueueError as error:
            flash(str(error), "warning")
            return _render_credentials(request.args, status=409)
        else:
            db.session.commit()
            label = verification.METHODS[cert.verification_source].lower()
            flash(f"{cert.credential} of {cert.practitioner.display_name} verified ({label}).", "success")
            return _next_item(cert)
    return _render_credentials(request.args, {("verify", cert.id): form}, 400, show=cert)


@bp.post("/credentials/<int:certification_id>/reject")
def reject_credential(certification_id: int):
    """Reject a pending credential with a reason the practitioner reads; then the next one."""
    cert = _certification_or_404(certification_id, lock=True)
    form = RejectForm()
    if not form.validate_on_submit():
        return _render_credentials(request.args, {("reject", cert.id): form}, 400, show=cert)
    try:
        verification.reject_certification(cert, current_user, form.reason.data)
    except verification.QueueError as error:
        flash(str(error), "warning")
        return _render_credentials(request.args, status=409)
    db.session.commit()
    flash(f"{cert.credential} of {cert.practitioner.display_name} rejected; the practitioner is told why.", "success")
    return _next_item(cert)


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
