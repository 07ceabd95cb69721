"""The referral API for clinic systems: send, list, read, move, and export as FHIR R4."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import abort, g, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from directory.api.views import bp
from directory.auth import api_login_required, bearer_user
from directory.extensions import db
from directory.models import Condition, Practitioner, Referral, User
from directory.models.base import today
from directory.referrals import service, workflow
from directory.referrals.fhir import referral_bundle
from directory.referrals.service import ReferralError, ReferralInput, get_referral_or_404
from directory.security import MAX_DB_ID as MAX_ID

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20


class BadRequest(ReferralError):
    """A malformed request body or query: 400."""

    status = 400


@bp.errorhandler(ReferralError)
def referral_error(error: ReferralError):
    """Domain refusals as JSON: 400, 403 or 409 with what is wrong."""
    db.session.rollback()
    return jsonify(error=error.message), error.status


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return workflow.as_utc(moment).isoformat().replace("+00:00", "Z")


def referral_dict(referral: Referral, events: bool = True) -> dict:
    """A referral as JSON, patient included: only its parties and admins ever get here."""
    referrer = referral.referrer
    data = {
        "id": referral.id,
        "status": referral.status,
        "version": referral.version,
        "practitioner_id": referral.practitioner_id,
        "practitioner_name": referral.practitioner_name,
        "referrer": {
            "id": referral.referrer_id,
            "name": referral.referrer_name,
            "email": referrer.email if referrer else None,
            "profession": referrer.profession if referrer else "",
            "organization": referrer.organization if referrer else "",
        },
        "patient": {
            "name": referral.patient_name,
            "phone": referral.patient_phone or None,
            "email": referral.patient_email or None,
            "birth_date": referral.patient_birth_date.isoformat() if referral.patient_birth_date else None,
        },
        "conditions": [c.slug for c in referral.conditions],
        "reason": referral.reason,
        "clinical_notes": referral.clinical_notes,
        "urgency": referral.urgency,
        "preferred_contact": referral.preferred_contact,
        "appointment_at": _iso(referral.appointment_at),
        "outcome": referral.outcome or None,
        "rejection_reason": referral.rejection_reason or None,
        "overdue": service.is_overdue(referral),
        "created_at": _iso(referral.created_at),
        "updated_at": _iso(referral.updated_at),
        "url": url_for("api.get_referral", referral_id=referral.id, _external=True),
    }
    if events:
        data["events"] = [
            {"status": e.status, "at": _iso(e.at), "actor": e.actor_name, "note": e.note or None}
            for e in referral.events
        ]
    return data


# --- Parsing a JSON body ---------------------------------------------------------------------


def _json_object() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object with Content-Type: application/json.")
    return body


def _string(body: dict, key: str, *, required: bool = False, max_length: int = 4000, label: str | None = None) -> str:
    label = label or key
    value = body.get(key)
    if value is None:
        if required:
            raise BadRequest(f"{label} is required.")
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{label} must be a string.")
    value = value.strip()
    if required and not value:
        raise BadRequest(f"{label} is required.")
    if len(value) > max_length:
        raise BadRequest(f"{label} is longer than {max_length} characters.")
    return value


def _birth_date(value) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise BadRequest("patient.birth_date must be a date string YYYY-MM-DD.")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise BadRequest("patient.birth_date must be a date YYYY-MM-DD.") from None
    if parsed > today():
        raise BadRequest("patient.birth_date cannot be in the future.")
    return parsed


def _appointment(value) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise BadRequest("appointment_at must be an ISO 8601 date-time string.")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest("appointment_at must be an ISO 8601 date-time, e.g. 2026-03-02T09:30:00Z.") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _looks_like_email(value: str) -> bool:
    local, at, domain = value.partition("@")
    return bool(at and local and "." in domain and " " not in value)


def _referral_input(body: dict) -> ReferralInput:
    practitioner_id = body.get("practitioner_id")
    if isinstance(practitioner_id, bool) or not isinstance(practitioner_id, int):
        raise BadRequest("practitioner_id must be an integer.")
    if not 1 <= practitioner_id <= MAX_ID:  # a larger number would overflow the database driver
        raise BadRequest(f"Unknown practitioner {practitioner_id}.")
    practitioner = db.session.get(Practitioner, practitioner_id)
    if practitioner is None or not practitioner.is_listed:
        raise BadRequest(f"Unknown practitioner {practitioner_id}.")
    patient = body.get("patient")
    if not isinstance(patient, dict):
        raise BadRequest("patient must be an object with at least a name.")
    name = _string(patient, "name", required=True, max_length=120, label="patient.name")
    phone = _string(patient, "phone", max_length=40, label="patient.phone")
    email = _string(patient, "email", max_length=254, label="patient.email")
    if email and not _looks_like_email(email):
        raise BadRequest("patient.email is not an email address.")
    slugs = body.get("conditions", [])
    if slugs is None:
        slugs = []
    if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
        raise BadRequest("conditions must be a list of condition slugs.")
    conditions = db.session.execute(select(Condition).where(Condition.slug.in_(set(slugs)))).scalars().all()
    unknown = sorted(set(slugs) - {c.slug for c in conditions})
    if unknown:
        raise BadRequest(f"Unknown condition: {', '.join(unknown)}. See /api/v1/conditions.")
    urgency = body.get("urgency", "routine")
    if urgency not in service.URGENCIES:
        raise BadRequest("urgency must be one of routine, urgent, asap.")
    contact = body.get("preferred_contact") or ("email" if email and not phone else "phone")
    if contact not in service.CONTACT_METHODS:
        raise BadRequest("preferred_contact must be phone or email.")
    if body.get("consent") is not True:
        raise BadRequest("consent must be true: the patient must agree to share these details.")
    return ReferralInput(
        practitioner=practitioner,
        patient_name=name,
        patient_phone=phone,
        patient_email=email,
        patient_birth_date=_birth_date(patient.get("birth_date")),
        conditions=list(conditions),
        reason=_string(body, "reason", required=True),
        clinical_notes=_string(body, "clinical_notes", max_length=10000),
        urgency=urgency,
        preferred_contact=contact,
        consent=True,
    )


def _page_arg(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    # isascii(): "²".isdigit() is true, but int("²") fails.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise BadRequest(f"{name} must be a whole number from 1 to {maximum}.")
    return int(raw)


# --- Routes ----------------------------------------------------------------------------------


@bp.post("/referrals")
@api_login_required
def create_referral():
    """Send a referral (verified providers only)."""
    user = g.api_user
    if not user.is_provider:
        return jsonify(error="Only healthcare providers send referrals."), 403
    if not user.can_refer:
        return jsonify(error="Your provider account has not been verified yet."), 403
    referral = service.create_referral(user, _referral_input(_json_object()))
    response = jsonify(referral_dict(referral))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_referral", referral_id=referral.id)
    return response


@bp.get("/referrals")
@api_login_required
def list_referrals():
    """Referrals the caller sent (provider), received (practitioner) or all (admin), newest first."""
    page = _page_arg("page", 1, 100_000)
    per_page = _page_arg("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    status = request.args.get("status") or None
    if status is not None and status not in workflow.STATUSES:
        raise BadRequest(f"status must be one of {', '.join(workflow.STATUSES)}.")
    stmt = service.visible_referrals(g.api_user, status)
    count = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return jsonify(count=count, page=page, per_page=per_page, results=[referral_dict(r) for r in rows])


@bp.get("/referrals/<int:referral_id>")
def get_referral(referral_id: int):
    """One referral with its events; the recipient's first read marks it received."""
    return jsonify(referral_dict(get_referral_or_404(referral_id, _caller())))


@bp.post("/referrals/<int:referral_id>/transitions")
def move_referral(referral_id: int):
    """Move a referral: {"status", "note"?, "appointment_at"?} → the updated referral."""
    user = _caller()
    referral = get_referral_or_404(referral_id, user, mark_read=False)
    body = _json_object()
    target = body.get("status")
    if not isinstance(target, str) or target not in workflow.STATUSES:
        raise BadRequest(f"status must be one of {', '.join(workflow.STATUSES)}.")
    note = _string(body, "note")
    appointment_at = _appointment(body.get("appointment_at"))
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise BadRequest("version must be an integer.")
    opened_now = service.open_referral(referral, user)
    if not (target == workflow.RECEIVED and opened_now):
        service.transition(
            referral,
            user,
            target,
            note=note,
            appointment_at=appointment_at,
            expected_version=None if opened_now else version,
        )
    return jsonify(referral_dict(referral))


@bp.get("/referrals/<int:referral_id>/fhir")
def referral_fhir(referral_id: int):
    """The referral as a FHIR R4 Bundle: a ServiceRequest and its Task."""
    referral = get_referral_or_404(referral_id, _caller())
    response = jsonify(referral_bundle(referral))
    response.mimetype = "application/fhir+json"
    return response


def _caller() -> User | None:
    """The token's (or session's) user; callers without one get the same 404 as strangers."""
    user = bearer_user()
    if user is None and request.headers.get("Authorization"):
        abort(401)  # a token was sent but is wrong, revoked or expired
    if user is None and current_user.is_authenticated:
        user = current_user._get_current_object()
    return user
