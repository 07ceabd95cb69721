"""Schemas of the referral payloads: what clinic systems send, and the referrals they get back.

Enums come from their one source: statuses and moves from the transition table
(`referrals.workflow`), urgencies and contact methods from `referrals.service`. Condition slugs
are data, so they stay plain strings and are checked against the taxonomy when a body is read.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, post_load, validate
from marshmallow.utils import missing
from sqlalchemy import select

from directory.api.fields import Moment, MustBeTrue, PastDate, StrictInteger, Text
from directory.api.schemas import ConditionSchema, SiteUrl
from directory.extensions import db
from directory.models import Condition, Practitioner
from directory.models.base import today
from directory.referrals import service, workflow
from directory.referrals.service import ReferralInput
from directory.security import MAX_DB_ID

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_LIST_PAGE = 100_000
# A move may name any status of the table: one nobody may reach (such as "draft") is refused
# by the table itself (403 or 409, as on the referral's page), not by the schema.
MOVE_TARGETS = workflow.STATUSES


class JsonBody(Schema):
    """A request body: a JSON object; unknown keys are ignored, as they always were."""

    class Meta:
        unknown = EXCLUDE

    error_messages = {"type": "Send a JSON object with Content-Type: application/json."}


def _one_of(label: str, choices) -> validate.OneOf:
    return validate.OneOf(choices, error=f"{label} must be one of {', '.join(c for c in choices if c)}.")


class Whole(fields.Nested):
    """A nested object made of the parent's own columns (`referral.patient_name` → `patient.name`)."""

    def get_value(self, obj, attr, accessor=None, default=missing):
        """The parent itself."""
        return obj


def _check_email(value: str) -> None:
    """Refuse what cannot be an email address (the API's rule since its first version)."""
    local, at, domain = value.partition("@")
    if value and not (at and local and "." in domain and " " not in value):
        raise ValidationError("patient.email is not an email address.")


class PatientSchema(Schema):
    """The patient: read from a new referral, written back from the referral's columns."""

    class Meta:
        unknown = EXCLUDE

    error_messages = {"type": "patient must be an object with at least a name."}

    name = Text(label="patient.name", required=True, max_length=120, attribute="patient_name")
    phone = Text(label="patient.phone", max_length=40, attribute="patient_phone")
    email = Text(
        label="patient.email",
        max_length=254,
        attribute="patient_email",
        validate=_check_email,
    )
    birth_date = PastDate(label="patient.birth_date", today=today, attribute="patient_birth_date")

    def dump(self, obj, **kwargs):
        """Empty contact details are written as null, as the API always has."""
        data = super().dump(obj, **kwargs)
        return {key: (value if value != "" else None) for key, value in data.items()}


class ReferrerSchema(Schema):
    """Who sent a referral (the name is kept even if the account is gone)."""

    id = fields.Integer(attribute="referrer_id", allow_none=True)
    name = fields.String(attribute="referrer_name")
    email = fields.Function(
        lambda r: r.referrer.email if r.referrer else None, allow_none=True, metadata={"type": "string"}
    )
    profession = fields.Function(lambda r: r.referrer.profession if r.referrer else "", metadata={"type": "string"})
    organization = fields.Function(lambda r: r.referrer.organization if r.referrer else "", metadata={"type": "string"})


class ReferralEventSchema(Schema):
    """One step of a referral's timeline."""

    status = fields.String(required=True, validate=validate.OneOf(workflow.STATUSES))
    at = Moment(required=True)
    actor = fields.String(attribute="actor_name", allow_none=True)
    note = fields.Function(lambda e: e.note or None, allow_none=True, metadata={"type": "string"})


def _or_none(name: str):
    return fields.Function(lambda r: getattr(r, name) or None, allow_none=True, metadata={"type": "string"})


class ReferralSchema(Schema):
    """A referral, patient included: only its parties and admins ever get one.

    Reads only the referral's columns and its `referrer`, `conditions` and `events`, which the
    list loads eagerly (no other relationship may be touched here).
    """

    id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(workflow.STATUSES))
    version = fields.Integer(required=True, metadata={"description": "Send it back with a move to detect a change"})
    practitioner_id = fields.Integer(required=True, allow_none=True)
    practitioner_name = fields.String()
    referrer = Whole(ReferrerSchema)
    patient = Whole(PatientSchema, required=True)
    conditions = fields.Pluck(ConditionSchema, "slug", many=True, required=True)
    reason = fields.String(required=True)
    clinical_notes = fields.String()
    urgency = fields.String(required=True, validate=validate.OneOf(service.URGENCIES))
    preferred_contact = fields.String(validate=validate.OneOf(service.CONTACT_METHODS))
    appointment_at = Moment(allow_none=True)
    outcome = _or_none("outcome")
    rejection_reason = _or_none("rejection_reason")
    overdue = fields.Function(service.is_overdue, metadata={"type": "boolean"})
    created_at = Moment(required=True)
    updated_at = Moment(allow_none=True)
    url = SiteUrl("api.get_referral", "referral_id")
    events = fields.Nested(ReferralEventSchema, many=True)


class ReferralListSchema(Schema):
    """One page of referrals, newest first."""

    count = fields.Integer(required=True, validate=validate.Range(min=0))
    page = fields.Integer(required=True, validate=validate.Range(min=1))
    per_page = fields.Integer(required=True, validate=validate.Range(1, MAX_PER_PAGE))
    results = fields.Nested(ReferralSchema, many=True, required=True)


class WholeNumber(fields.Integer):
    """A whole number in a query string, ASCII digits only ("²".isdigit() is true, int("²") fails)."""

    def __init__(self, name: str, maximum: int, **kwargs):
        self.message = f"{name} must be a whole number from 1 to {maximum}."
        super().__init__(validate=validate.Range(1, maximum, error=self.message), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        if not (isinstance(value, str) and value.isascii() and value.isdigit()):
            raise ValidationError(self.message)
        return int(value)


class ReferralListArgsSchema(Schema):
    """The referral list's query: paging and an optional status filter."""

    page = WholeNumber("page", MAX_LIST_PAGE, load_default=1)
    per_page = WholeNumber("per_page", MAX_PER_PAGE, load_default=DEFAULT_PER_PAGE)
    status = fields.String(
        load_default="",
        validate=_one_of("status", ("", *workflow.STATUSES)),
        metadata={"description": "Only referrals in this status (empty: all)"},
    )

    @post_load
    def _empty_status_is_none(self, data, **kwargs):
        data["status"] = data["status"] or None
        return data


class NewReferralSchema(JsonBody):
    """A referral a verified provider sends; loads into the service's ReferralInput."""

    # A number beyond what the column holds would overflow the database driver: it is unknown too.
    practitioner_id = StrictInteger(
        label="practitioner_id",
        required=True,
        validate=validate.Range(1, MAX_DB_ID, error="Unknown practitioner {input}."),
    )
    patient = fields.Nested(
        PatientSchema,
        required=True,
        error_messages={
            "required": "patient must be an object with at least a name.",
            "null": "patient must be an object with at least a name.",
            "type": "patient must be an object with at least a name.",
        },
    )
    conditions = fields.List(
        fields.String(error_messages={"invalid": "conditions must be a list of condition slugs."}),
        load_default=list,
        allow_none=True,
        metadata={"description": "Condition slugs, see /conditions"},
        error_messages={"invalid": "conditions must be a list of condition slugs."},
    )
    reason = Text(label="reason", required=True)
    clinical_notes = Text(label="clinical_notes", max_length=10000)
    urgency = fields.String(
        load_default="routine", validate=_one_of("urgency", service.URGENCIES), metadata={"default": "routine"}
    )
    preferred_contact = fields.String(
        load_default=None,
        allow_none=True,
        validate=_one_of("preferred_contact", ("", *service.CONTACT_METHODS)),
        metadata={"description": "Default: email when only an email is given, else phone"},
    )
    consent = MustBeTrue(
        message="consent must be true: the patient must agree to share these details.",
        metadata={"description": "The patient agreed to share these details; must be true"},
    )

    @post_load
    def _referral_input(self, data: dict, **kwargs) -> ReferralInput:
        """Look up the practitioner and the conditions; refuse unknown ones."""
        return ReferralInput(
            practitioner=_listed_practitioner(data["practitioner_id"]),
            conditions=_conditions(data["conditions"] or []),
            reason=data["reason"],
            clinical_notes=data["clinical_notes"],
            urgency=data["urgency"],
            preferred_contact=data["preferred_contact"]
            or ("email" if data["patient"]["patient_email"] and not data["patient"]["patient_phone"] else "phone"),
            consent=True,
            **data["patient"],
        )


def _listed_practitioner(practitioner_id: int) -> Practitioner:
    practitioner = db.session.get(Practitioner, practitioner_id)
    if practitioner is None or not practitioner.is_listed:
        raise ValidationError(f"Unknown practitioner {practitioner_id}.", "practitioner_id")
    return practitioner


def _conditions(slugs: list[str]) -> list[Condition]:
    found = db.session.execute(select(Condition).where(Condition.slug.in_(set(slugs)))).scalars().all()
    unknown = sorted(set(slugs) - {c.slug for c in found})
    if unknown:
        raise ValidationError(f"Unknown condition: {', '.join(unknown)}. See /api/v1/conditions.", "conditions")
    return list(found)


class TransitionSchema(JsonBody):
    """A move of the transition table, asked for by one of the referral's parties."""

    status = fields.String(
        required=True,
        validate=_one_of("status", MOVE_TARGETS),
        error_messages={"required": "status is required.", "invalid": "status must be a string."},
    )
    note = Text(
        label="note", metadata={"description": "Required to decline (the reason) and to complete (the outcome)"}
    )
    appointment_at = Moment(
        label="appointment_at", allow_none=True, load_default=None, metadata={"description": "Required for in-progress"}
    )
    version = StrictInteger(
        label="version",
        allow_none=True,
        load_default=None,
        metadata={"description": "The version the client last read: a move on an older one answers 409"},
    )


class FhirBundleSchema(Schema):
    """A FHIR R4 Bundle, described loosely: FHIR's own specification defines its resources.

    Only documented: the view writes the bundle that referrals/fhir.py builds (and tests validate
    with fhir.resources), so dumping it through these three fields would drop the rest.
    """

    class Meta:
        unknown = INCLUDE

    resourceType = fields.String(required=True, validate=validate.OneOf(["Bundle"]))  # noqa: N815 (FHIR's name)
    type = fields.String(required=True)
    entry = fields.List(fields.Dict(), required=True)
