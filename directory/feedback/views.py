"""Public forms about a listing (a correction, a concern), the practitioner's corrections, confirmations.

The public forms are protected like the enquiry form: a honeypot, a minimum fill time in a signed
timestamp, and a per-address limit (FEEDBACK_RATE_LIMIT, default "5 per hour") on what was stored;
a refused post stores nothing and keeps what was typed.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from sqlalchemy import select

from directory.errors import error_response
from directory.extensions import db, limiter
from directory.feedback import service
from directory.feedback.fields import applies_itself, label
from directory.feedback.forms import ConcernForm, CorrectionForm
from directory.models import ConcernKind, Correction, CorrectionStatus
from directory.models.base import today
from directory.practitioners import enquiries as spam
from directory.practitioners.forms import ActionForm
from directory.practitioners.lookups import get_listed_practitioner_or_404
from directory.practitioners.rules import FieldError
from directory.practitioners.views import action_or_400, own_or_404, owner_required

bp = Blueprint("feedback", __name__)


@bp.app_template_global("details_confirmed")
def details_confirmed(practitioner) -> dict:
    """Jinja: when the practitioner last confirmed their details, and whether that was too long ago."""
    return {
        "on": practitioner.details_confirmed_at,
        "stale": service.details_may_be_stale(practitioner, today()),
    }


def _rate_limit() -> str:
    return current_app.config.get("FEEDBACK_RATE_LIMIT", "5 per hour")


def _was_stored(response) -> bool:
    """Only what was stored (answered with a redirect) counts toward the limit."""
    return response.status_code in (302, 303)


def _stamped(form, practitioner_id: int):
    form.started.data = spam.start_token(practitioner_id)
    return form


def _public_form(form_class, template: str, practitioner_id: int, store):
    practitioner = get_listed_practitioner_or_404(practitioner_id)
    form = form_class()
    if not form.is_submitted():
        return render_template(
            template, form=_stamped(form_class(formdata=None), practitioner.id), practitioner=practitioner
        )
    if not form.validate():
        _stamped(form, practitioner.id)
        return render_template(
            template, form=form, practitioner=practitioner, error="Please correct the marked fields."
        ), 400
    try:
        spam.check_spam(practitioner.id, form.website.data, form.started.data)
    except spam.SpamSuspected as error:
        if isinstance(error, spam.FormOutdated):
            _stamped(form, practitioner.id)
        return render_template(template, form=form, practitioner=practitioner, error=str(error)), 400
    message = store(practitioner, form)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("public.profile", practitioner_id=practitioner.id), 303)


@bp.route("/practitioners/<int:practitioner_id>/correction", methods=["GET", "POST"])
@limiter.limit(_rate_limit, deduct_when=_was_stored, methods=["POST"])
def suggest_correction(practitioner_id: int):
    """Anyone may say which detail of a listing is wrong and what is right; the practitioner decides."""

    def store(practitioner, form):
        service.record_correction(
            practitioner, form.field.data, form.suggestion.data, form.email.data or "", form.share_email.data
        )
        return "Thank you: your correction was sent to the practitioner."

    return _public_form(CorrectionForm, "feedback/correction.html", practitioner_id, store)


@bp.route("/practitioners/<int:practitioner_id>/concern", methods=["GET", "POST"])
@limiter.limit(_rate_limit, deduct_when=_was_stored, methods=["POST"])
def report_concern(practitioner_id: int):
    """Anyone may report a concern about a listing; only the site's administrators see it."""

    def store(practitioner, form):
        service.record_concern(practitioner, ConcernKind(form.kind.data), form.details.data, form.email.data or "")
        return "Thank you: your concern was sent to the site's administrators, and only to them."

    return _public_form(ConcernForm, "feedback/concern.html", practitioner_id, store)


@bp.errorhandler(RateLimitExceeded)
def too_many(error: RateLimitExceeded):  # noqa: ARG001
    """Past the limit: 429 with a way back, and nothing stored."""
    return error_response(429, "Too many messages from this connection in a short time. Please try again in an hour.")


# --- The practitioner's side ----------------------------------------------------------------


@bp.get("/dashboard/corrections")
@owner_required
def corrections():
    """Corrections suggested for the signed-in practitioner's profile, open ones first."""
    rows = (
        db.session.execute(
            select(Correction)
            .where(Correction.practitioner_id == g.profile.id)
            .order_by((Correction.status == CorrectionStatus.OPEN).desc(), Correction.created_at.desc())
            .limit(200)
        )
        .scalars()
        .all()
    )
    return render_template(
        "feedback/corrections.html",
        corrections=rows,
        action_form=ActionForm(),
        label=label,
        applies_itself=applies_itself,
    )


@bp.post("/dashboard/corrections/<int:correction_id>/accept")
@owner_required
def accept_correction(correction_id: int):
    """Accept a suggestion: the detail changes through the editor's rules (and the claims screening)."""
    action_or_400()
    correction = own_or_404(Correction, correction_id)
    try:
        applied = service.accept_correction(correction, current_user)
    except FieldError as error:
        db.session.rollback()
        flash(f"This suggestion cannot be applied as it is: {error} Change the detail in the editor instead.", "danger")
        return redirect(url_for("feedback.corrections"), 303)
    db.session.commit()
    if applied:
        flash(f"Accepted: {label(correction.field)} was changed.", "success")
    else:
        flash(f"Accepted. Please change {label(correction.field).lower()} in your profile editor.", "success")
    return redirect(url_for("feedback.corrections"), 303)


@bp.post("/dashboard/corrections/<int:correction_id>/dismiss")
@owner_required
def dismiss_correction(correction_id: int):
    """Dismiss a suggestion: the listing is right as it is."""
    action_or_400()
    correction = own_or_404(Correction, correction_id)
    try:
        service.dismiss_correction(correction, current_user)
    except FieldError as error:
        flash(str(error), "info")
        return redirect(url_for("feedback.corrections"), 303)
    db.session.commit()
    flash("Dismissed.", "success")
    return redirect(url_for("feedback.corrections"), 303)
