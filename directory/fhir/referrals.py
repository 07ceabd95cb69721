"""The referral routes of the FHIR server: `POST ServiceRequest`, and reading a ServiceRequest or a Task.

Same callers and privacy as the JSON API's referral routes: a bearer token (reads also accept
the site's session), a verified provider to send, and 404 to anyone who is not a party or an
admin. Views commit once at their end, like the API's.
"""

from __future__ import annotations

from flask import request
from flask_login import current_user
from werkzeug.exceptions import NotFound

from directory.auth import bearer_user
from directory.extensions import csrf, db
from directory.fhir.outcome import FhirError, fhir_response, issue, operation_outcome
from directory.fhir.servicerequest import FhirProblems, referral_input, standalone, validate_resource
from directory.fhir.store import database_id
from directory.fhir.views import bp
from directory.mail import site_url
from directory.models import Referral, User
from directory.referrals import service
from directory.referrals.errors import NotYourMove, ReferralError

JSON_BODIES = {"application/fhir+json", "application/json", "application/json+fhir"}


@bp.errorhandler(FhirProblems)
def refused_with_problems(error: FhirProblems):
    """A refusal with one issue per problem, each naming its element; nothing of the request is kept."""
    db.session.rollback()
    issues = [{**issue(message, error.code), "expression": [path]} for path, message in error.problems]
    return fhir_response(operation_outcome(issues), error.status)


@bp.errorhandler(ReferralError)
def referral_refused(error: ReferralError):
    """The referral service's refusal: 403 for the sender, 422 for the referral itself."""
    db.session.rollback()
    status = 403 if isinstance(error, NotYourMove) else 422 if error.status == 400 else error.status
    code = "forbidden" if status == 403 else "business-rule"
    return fhir_response(operation_outcome([issue(error.message, code)]), status)


def _token_user() -> User:
    """The bearer token's user; 401 without a valid one."""
    user = bearer_user()
    if user is None:
        raise FhirError(401, "Send Authorization: Bearer TOKEN (a token of your account).", "login")
    return user


def _reader() -> User | None:
    """The token's user, or the signed-in session's; a wrong token is 401, no one at all is None."""
    user = bearer_user()
    if user is None and request.headers.get("Authorization"):
        raise FhirError(401, "The token is wrong, revoked or expired.", "login")
    if user is None and current_user.is_authenticated:
        user = current_user._get_current_object()
    return user


@bp.post("/ServiceRequest")
@csrf.exempt  # bearer tokens only: no cookie, so no cross-site request to forge
def create_service_request():
    """A verified provider sends a referral as a ServiceRequest: 201 with the stored one."""
    user = _token_user()
    if not user.is_provider:
        raise FhirError(403, "Only healthcare providers send referrals.", "forbidden")
    if not user.can_refer:
        raise FhirError(403, "Your provider account has not been verified yet.", "forbidden")
    if request.mimetype not in JSON_BODIES:
        raise FhirError(415, "Send the ServiceRequest as application/fhir+json.", "not-supported")
    data = validate_resource(request.get_json(silent=True))
    referral = service.create_referral(user, referral_input(data))
    db.session.commit()
    location = site_url("fhir.read_service_request", referral_id=referral.id)
    response = fhir_response(standalone(referral, "ServiceRequest"), 201)
    response.headers["Location"] = location
    return response


def _readable_referral(raw_id: str, kind: str) -> Referral:
    """The referral if the caller may see it (the recipient's first read marks it received); 404 otherwise."""
    referral_id = database_id(raw_id)
    try:
        if referral_id is None:
            raise NotFound()
        referral = service.get_referral_or_404(referral_id, _reader(), mark_read=True)
    except NotFound:
        raise FhirError(404, f"{kind}/{raw_id[:40]} is not known here, or not yours to see.", "not-found") from None
    db.session.commit()  # the recipient's first read, or an admin's audit entry
    return referral


@bp.get("/ServiceRequest/<referral_id>")
def read_service_request(referral_id: str):
    """A referral as its ServiceRequest (its parties and admins only)."""
    return fhir_response(standalone(_readable_referral(referral_id, "ServiceRequest"), "ServiceRequest"))


@bp.get("/Task/<referral_id>")
def read_task(referral_id: str):
    """A referral's Task: its status and history (its parties and admins only)."""
    return fhir_response(standalone(_readable_referral(referral_id, "Task"), "Task"))
