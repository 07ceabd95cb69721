"""The practitioner's own profile over the API: for practice-management software (issue 12).

`GET /api/v1/me/practitioner`, `PATCH /api/v1/me/practitioner` and
`POST /api/v1/me/practitioner/confirm`, with a practitioner's token (others 403, no token 401).
A PATCH goes through the same field rules as the profile editor (practitioners.rules) and the
same claims screening (claims.service): a flagged text answers 200 with `review.status`
"pending" and is not public; a bad value answers 400 and changes nothing.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, g, jsonify
from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema
from sqlalchemy import select

from directory.api.contract import first_message, operation
from directory.api.schemas import PractitionerSchema
from directory.api.views import bp
from directory.auth import api_login_required
from directory.claims.service import review_summary, submit_texts
from directory.extensions import db
from directory.feedback.service import confirm_details
from directory.models import Condition, Role
from directory.practitioners import rules

TEXTS = ("display_name", "practice_name", "bio")
MAX_BIO = 5000


class FlagSchema(Schema):
    """A phrase screening found, in which field, and why it holds the text back."""

    field = fields.String(required=True, metadata={"description": 'e.g. "bio" or "location:12:label"'})
    phrase = fields.String(required=True)
    explanation = fields.String(required=True)


class ReviewSchema(Schema):
    """Where the profile's texts stand in the claims review."""

    status = fields.String(required=True, metadata={"enum": ["approved", "pending", "rejected"]})
    flags = fields.Nested(FlagSchema, many=True, required=True)
    reason = fields.String(required=True, metadata={"description": "The admin's reason for a rejection"})


class OwnProfileSchema(PractitionerSchema):
    """The caller's own profile (published or not) with its review and the texts held back."""

    published = fields.Boolean(required=True)
    details_confirmed_at = fields.DateTime(allow_none=True)
    review = fields.Method("_review", required=True, metadata={"type": "object"})
    pending = fields.Method(
        "_pending", required=True, metadata={"type": "object", "description": "Held texts by field, not public"}
    )

    def _review(self, practitioner) -> dict:
        summary = review_summary(practitioner)
        return ReviewSchema().dump({**summary, "flags": summary["flags"]})

    def _pending(self, practitioner) -> dict:
        return review_summary(practitioner)["pending"]


def _rule(name: str, rule):
    def check(value):
        try:
            return rule(value)
        except rules.FieldError as error:
            raise ValidationError(f"{name}: {error}") from None

    return check


class ProfilePatchSchema(Schema):
    """Any of the profile's fields; each checked by the profile editor's rule for it."""

    class Meta:
        unknown = RAISE

    error_messages = {"type": "Send a JSON object with Content-Type: application/json."}

    display_name = fields.String(metadata={"maxLength": 120})
    practice_name = fields.String(metadata={"maxLength": 160})
    bio = fields.String(metadata={"maxLength": MAX_BIO})
    phone = fields.String(metadata={"maxLength": 40})
    website = fields.String(metadata={"maxLength": 300})
    accepting_new_patients = fields.Boolean(truthy={True}, falsy={False})
    session_minutes = fields.Integer(strict=True, allow_none=True, metadata={"minimum": 15, "maximum": 240})
    fee_min = fields.Integer(strict=True, allow_none=True, metadata={"minimum": 0, "maximum": 100000})
    fee_max = fields.Integer(strict=True, allow_none=True, metadata={"minimum": 0, "maximum": 100000})
    currency = fields.String(metadata={"pattern": "^[A-Za-z]{3}$"})
    languages = fields.List(fields.String(), metadata={"description": "Any spelling: Spanish, Español, es"})
    wheelchair_accessible = fields.Boolean(truthy={True}, falsy={False})
    gender = fields.String(allow_none=True, metadata={"enum": ["female", "male", "nonbinary", None]})
    conditions = fields.List(fields.String(), metadata={"description": "Condition slugs (GET /api/v1/conditions)"})

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Send at least one field to change.")


def _clean(data: dict, practitioner) -> tuple[dict, dict, list]:
    """(texts to screen, other values, conditions or None) from a PATCH body, through the rules."""
    checks = {
        "display_name": rules.display_name,
        "practice_name": rules.practice_name,
        "phone": rules.phone,
        "website": rules.website,
        "session_minutes": rules.session_minutes,
        "fee_min": rules.fee,
        "fee_max": rules.fee,
        "currency": rules.currency,
        "languages": lambda names: rules.languages(", ".join(names)),
        "gender": rules.gender,
    }
    texts, values = {}, {}
    for name, value in data.items():
        if name == "conditions":
            continue
        if name == "bio":
            value = value.strip()
            if len(value) > MAX_BIO:
                raise ValidationError(f"bio: Use at most {MAX_BIO} characters (this has {len(value)}).")
        elif name in checks:
            value = _rule(name, checks[name])(value)
        (texts if name in TEXTS else values)[name] = value
    fee_min = values.get("fee_min", practitioner.fee_min)
    fee_max = values.get("fee_max", practitioner.fee_max)
    _rule("fee_max", lambda _: rules.fee_range(fee_min, fee_max))(None)
    conditions = None
    if "conditions" in data:
        slugs = list(dict.fromkeys(s.strip() for s in data["conditions"]))
        found = {c.slug: c for c in db.session.execute(select(Condition).where(Condition.slug.in_(slugs))).scalars()}
        unknown = [s for s in slugs if s not in found]
        if unknown:
            raise ValidationError(f"conditions: unknown condition {', '.join(unknown[:5])}")
        conditions = [found[s] for s in slugs]
    return texts, values, conditions


def practitioner_required(view):
    """After api_login_required: 403 for anyone but a practitioner, 404 without a profile (before any body is read)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.api_user.role != Role.PRACTITIONER:
            abort(403)
        if g.api_user.practitioner is None:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def _own_profile():
    return g.api_user.practitioner


_ERRORS = {403: "Not a practitioner's token", 404: "The practitioner has no profile yet"}


@bp.get("/me/practitioner")
@operation(bp, "getOwnPractitioner", token=True, errors={401: "No valid token", **_ERRORS})
@api_login_required
@practitioner_required
@bp.response(200, OwnProfileSchema, description="The caller's profile, its review and held texts")
def get_own_practitioner():
    """The caller's own profile, published or not, with the claims review and the held texts."""
    return _own_profile()


@bp.patch("/me/practitioner")
@operation(
    bp,
    "updateOwnPractitioner",
    token=True,
    errors={400: "A bad value: nothing changed", 401: "No valid token", **_ERRORS},
)
@api_login_required
@practitioner_required
@bp.arguments(ProfilePatchSchema)
@bp.response(200, OwnProfileSchema, description="The profile after the change")
def update_own_practitioner(data):
    """Change any of the profile's fields, with the profile editor's rules and the claims screening.

    A text with a screened phrase is held (`review.status` "pending", the public keeps the last
    approved text); the other fields change at once.
    """
    practitioner = _own_profile()
    try:
        texts, values, conditions = _clean(data, practitioner)
    except ValidationError as error:
        response = jsonify(error=first_message(error.messages))
        response.status_code = 400
        return response
    for name, value in values.items():
        setattr(practitioner, name, value)
    if conditions is not None:
        practitioner.conditions = conditions
    submit_texts(practitioner, texts, g.api_user)
    db.session.commit()
    return practitioner


@bp.post("/me/practitioner/confirm")
@operation(bp, "confirmOwnPractitioner", token=True, errors={401: "No valid token", **_ERRORS})
@api_login_required
@practitioner_required
@bp.response(200, OwnProfileSchema, description="The profile, confirmed today")
def confirm_own_practitioner():
    """Record that the practitioner confirmed their details are current."""
    practitioner = _own_profile()
    confirm_details(practitioner, g.api_user)
    db.session.commit()
    return practitioner
