"""The referral API for clinic systems: send, list, read, move, and export as FHIR R4.

Bodies and queries are read by the schemas of referral_schemas.py, answers are written by them,
and the same schemas are the OpenAPI document. Services change and flush; each view that writes
commits once at its end; a refused move keeps only the recipient's opening of the referral.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, g, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from directory.api.contract import operation
from directory.api.referral_schemas import (
    FhirBundleSchema,
    NewReferralSchema,
    ReferralListArgsSchema,
    ReferralListSchema,
    ReferralSchema,
    TransitionSchema,
)
from directory.api.views import bp
from directory.auth import api_login_required, bearer_user
from directory.extensions import db
from directory.models import User
from directory.referrals import service
from directory.referrals.fhir import referral_bundle
from directory.referrals.service import ReferralError, ReferralInput, get_referral_or_404

NEED_TOKEN = {401: "No valid token", 403: "Not allowed for this account"}
HIDDEN = {404: "No such referral, or not yours to see"}


@bp.errorhandler(ReferralError)
def referral_error(error: ReferralError):
    """Domain refusals as JSON: 400, 403 or 409 with what is wrong; nothing of the request is kept."""
    db.session.rollback()
    return jsonify(error=error.message), error.status


def _caller() -> User | None:
    """The token's (or session's) user; callers without one get the same 404 as strangers."""
    user = bearer_user()
    if user is None and request.headers.get("Authorization"):
        abort(401)  # a token was sent but is wrong, revoked or expired
    if user is None and current_user.is_authenticated:
        user = current_user._get_current_object()
    return user


def _sender_required(view):
    """Verified providers only: the role is checked before the body is read (403, not 400)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = g.api_user
        if not user.is_provider:
            return jsonify(error="Only healthcare providers send referrals."), 403
        if not user.can_refer:
            return jsonify(error="Your provider account has not been verified yet."), 403
        return view(*args, **kwargs)

    return wrapped


def _with_referral(*, mark_read: bool):
    """Give the view the referral of the URL, if the caller may see it (404 before reading any body)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, referral_id: int, **kwargs):
            user = _caller()
            referral = get_referral_or_404(referral_id, user, mark_read=mark_read)
            return view(*args, referral=referral, user=user, **kwargs)

        return wrapped

    return decorator


@bp.post("/referrals")
@operation(
    bp,
    "createReferral",
    token=True,
    errors={400: "Bad input: missing consent, unknown condition or practitioner, no patient name", **NEED_TOKEN},
)
@api_login_required
@_sender_required
@bp.arguments(NewReferralSchema)
@bp.response(201, ReferralSchema, description="The new referral")
def create_referral(data: ReferralInput):
    """Refer a patient to a practitioner (verified providers only)."""
    referral = service.create_referral(g.api_user, data)
    db.session.commit()
    return referral, 201, {"Location": url_for("api.get_referral", referral_id=referral.id)}


@bp.get("/referrals")
@operation(bp, "listReferrals", token=True, errors={400: "Bad paging or filter", **NEED_TOKEN})
@api_login_required
@bp.arguments(ReferralListArgsSchema, location="query")
@bp.response(200, ReferralListSchema, description="One page of referrals")
def list_referrals(args: dict):
    """Referrals sent (provider), received (practitioner) or all (admin), newest first."""
    page, per_page = args["page"], args["per_page"]
    stmt = service.visible_referrals(g.api_user, args["filters"])
    count = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return {"count": count, "page": page, "per_page": per_page, "results": rows}


@bp.get("/referrals/<int:referral_id>")
@operation(bp, "getReferral", hidden_without_token=True, errors={**NEED_TOKEN, **HIDDEN})
@_with_referral(mark_read=True)
@bp.response(200, ReferralSchema, description="The referral")
def get_referral(referral, user):
    """One referral with its timeline; a first read by the recipient marks it received."""
    db.session.commit()  # the recipient's first read, or an admin's audit entry
    return referral


@bp.post("/referrals/<int:referral_id>/transitions")
@operation(
    bp,
    "transitionReferral",
    hidden_without_token=True,
    errors={
        400: "Bad input",
        **NEED_TOKEN,
        **HIDDEN,
        409: "Not a legal move from the current status, or someone moved it first",
    },
)
@_with_referral(mark_read=False)
@bp.arguments(TransitionSchema)
@bp.response(200, ReferralSchema, description="The updated referral")
def move_referral(move: dict, referral, user):
    """Move a referral to its next status."""
    try:
        service.make_move(
            referral,
            user,
            move["status"],
            note=move["note"],
            appointment_at=move["appointment_at"],
            location_id=move["location_id"],
            reason=move["reason"],
            outcome=move["outcome"],
            expected_version=move["version"],
        )
    except ReferralError:
        # A refusal changes nothing, but the recipient's request still opened the referral
        # (as on its page): keep that, then answer the refusal.
        db.session.commit()
        raise
    db.session.commit()
    return referral


@bp.get("/referrals/<int:referral_id>/fhir")
@operation(bp, "getReferralFhir", hidden_without_token=True, errors={**NEED_TOKEN, **HIDDEN})
@_with_referral(mark_read=True)
@bp.alt_response(200, schema=FhirBundleSchema, content_type="application/fhir+json", success=True)
@bp.alt_response(200, schema=FhirBundleSchema, description="A FHIR R4 Bundle", success=True)
def referral_fhir(referral, user):
    """The referral as a FHIR R4 Bundle (ServiceRequest and Task)."""
    db.session.commit()  # the recipient's first read, or an admin's audit entry
    response = jsonify(referral_bundle(referral))
    response.mimetype = "application/fhir+json"
    return response
