"""Schemas of the referral payloads: what clinic systems send, and the referrals they get back.

Enums come from their one source: statuses and moves from the transition table
(`referrals.workflow`), urgencies and contact methods from `referrals.service`. Condition slugs
are data, so they stay plain strings and are checked against the taxonomy when a body is read.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, post_load, validate
from marshmallow.utils import missing
from sqlalchemy import select

from directory.api.fields import Moment, MustBeTrue, PastDate, StrictInteger, Text
from directory.api.schemas import ConditionSchema, SiteUrl
from directory.extensions import db
from directory.models import Condition, Practitioner
from directory.models.base import today
from directory.referrals import appointments, outcome, service, workflow
from directory.referrals.outcome import Outcome
from directory.referrals.service import ReferralInput
from directory.security import MAX_DB_ID

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_LIST_PAGE = 100_000
# A move may name any status of the table: one nobody may reach (such as "draft") is refused
# by the table itself (403 or 409, as on the referral's page), not by the schema.
MOVE_TARGETS = workflow.STATUSES + workflow.ACTIONS


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
    """One step of a referral's timeline: a change of status, or an action that kept it (a no-show)."""

    status = fields.String(required=True, validate=validate.OneOf(workflow.STATUSES))
    kind = fields.Function(
        lambda e: e.kind or "status",
        metadata={"type": "string", "enum": ["status", *workflow.ACTIONS], "description": "status: a move"},
    )
    at = Moment(required=True)
    actor = fields.String(attribute="actor_name", allow_none=True)
    note = fields.Function(lambda e: e.note or None, allow_none=True, metadata={"type": "string"})
    appointment_at = Moment(allow_none=True, metadata={"description": "The appointment a no-show concerns"})


class AppointmentSchema(Schema):
    """The first appointment, in its location's own time."""

    at = fields.Function(
        lambda r: appointments.iso_local(appointments.local_time(r)),
        metadata={"type": "string", "format": "date-time", "description": "With the location's offset"},
    )
    time_zone = fields.Function(
        lambda r: r.appointment_time_zone or "UTC", metadata={"type": "string", "description": "IANA zone"}
    )
    location_id = fields.Integer(attribute="appointment_location_id", allow_none=True)
    place = fields.String(attribute="appointment_place")


class AppointmentField(fields.Nested):
    """The appointment object, or null when none is booked."""

    def get_value(self, obj, attr, accessor=None, default=missing):
        """The referral itself when an appointment is booked."""
        return obj if obj.appointment_at is not None else None


class OutcomeSchema(Schema):
    """A completed referral's outcome: the note and the structured answers (null when not given)."""

    note = fields.String(attribute="outcome")
    sessions = fields.Integer(attribute="outcome_sessions", allow_none=True)
    last_session_on = fields.Date(attribute="outcome_last_session_on", allow_none=True)
    pain_start = fields.Integer(attribute="outcome_pain_start", allow_none=True, metadata={"description": "0-10 NRS"})
    pain_end = fields.Integer(attribute="outcome_pain_end", allow_none=True, metadata={"description": "0-10 NRS"})
    pgic = fields.Integer(attribute="outcome_pgic", allow_none=True, metadata={"description": "PGIC, 1-7"})
    return_to_referrer = fields.Boolean(attribute="outcome_return_to_referrer", allow_none=True)
    return_reason = fields.Function(lambda r: r.outcome_return_reason or None, allow_none=True)


class OutcomeField(fields.Nested):
    """The outcome object of a completed referral, or null."""

    def get_value(self, obj, attr, accessor=None, default=missing):
        """The referral itself once completed."""
        return obj if obj.status == workflow.COMPLETED else None


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
    appointment_at = fields.Function(
        lambda r: appointments.iso_local(appointments.local_time(r)),
        allow_none=True,
        metadata={"type": "string", "format": "date-time", "description": "Same as appointment.at"},
    )
    appointment = AppointmentField(AppointmentSchema, allow_none=True)
    outcome = OutcomeField(OutcomeSchema, allow_none=True)
    outcome_note = _or_none("outcome")
    rejection_reason = _or_none("rejection_reason")
    held_from = _or_none("held_from")
    status_reason = _or_none("status_reason")
    status_note = _or_none("status_note")
    no_shows = fields.Integer()
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


def _limits(limits: tuple[int, int]) -> dict:
    return {"minimum": limits[0], "maximum": limits[1]}


class WholeNumber(fields.Integer):
    """A whole number in a query string, ASCII digits only ("²".isdigit() is true, int("²") fails)."""

    def __init__(self, name: str, maximum: int, **kwargs):
        self.message = f"{name} must be a whole number from 1 to {maximum}."
        super().__init__(validate=validate.Range(1, maximum, error=self.message), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        if not (isinstance(value, str) and value.isascii() and value.isdigit()):
            raise ValidationError(self.message)
        return int(value)


class SentBound(fields.String):
    """A bound on the day a referral was sent: a date (the whole day counts) or a date-time with an offset."""

    def __init__(self, name: str, *, end: bool, **kwargs):
        self.name = name
        self.end = end
        self.message = f"{name} must be a date YYYY-MM-DD or an ISO 8601 date-time, e.g. 2026-03-02T09:30:00Z."
        metadata = {"format": "date-time", **kwargs.pop("metadata", {})}
        super().__init__(load_default=None, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime | None:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                return datetime.combine(day, time.max if self.end else time.min, UTC)
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(self.message) from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class ReferralListArgsSchema(Schema):
    """The referral list's query: paging and optional filters (status, practitioner, urgency, day sent)."""

    page = WholeNumber("page", MAX_LIST_PAGE, load_default=1)
    per_page = WholeNumber("per_page", MAX_PER_PAGE, load_default=DEFAULT_PER_PAGE)
    status = fields.String(
        load_default="",
        validate=_one_of("status", ("", *workflow.STATUSES)),
        metadata={"description": "Only referrals in this status (empty: all)"},
    )
    practitioner_id = WholeNumber(
        "practitioner_id", MAX_DB_ID, load_default=None, metadata={"description": "Only referrals to this practitioner"}
    )
    urgency = fields.String(
        load_default="",
        validate=_one_of("urgency", ("", *service.URGENCIES)),
        metadata={"description": "Only referrals of this urgency (empty: all)"},
    )
    since = SentBound("since", end=False, metadata={"description": "Sent on or after (a date: from its start)"})
    until = SentBound("until", end=True, metadata={"description": "Sent on or before (a date: to its end)"})

    @post_load
    def _filters(self, data, **kwargs):
        """Paging, and the filters as the service reads them (since after until: an empty list, as any empty range)."""
        data["filters"] = service.ReferralFilter(
            status=data.pop("status") or None,
            practitioner_id=data.pop("practitioner_id"),
            urgency=data.pop("urgency") or None,
            since=data.pop("since"),
            until=data.pop("until"),
        )
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


class LocalMoment(Moment):
    """An ISO 8601 date-time kept as given: with an offset it is a moment, without one a local time."""

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        return parsed if _has_offset(value) else parsed.replace(tzinfo=None)


def _has_offset(value: str) -> bool:
    """True when an ISO 8601 date-time string names its offset (Z or ±hh:mm)."""
    return value.endswith(("Z", "z")) or datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


class OutcomeInputSchema(Schema):
    """The structured outcome sent with the move to `completed`; its limits are outcome.py's."""

    class Meta:
        unknown = EXCLUDE

    error_messages = {"type": "outcome must be an object."}

    sessions = StrictInteger(
        label="outcome.sessions",
        allow_none=True,
        load_default=None,
        metadata={"minimum": outcome.SESSIONS[0], "maximum": outcome.SESSIONS[1]},
    )
    last_session_on = PastDate(label="outcome.last_session_on", today=today)
    pain_start = StrictInteger(
        label="outcome.pain_start", allow_none=True, load_default=None, metadata=_limits(outcome.PAIN)
    )
    pain_end = StrictInteger(
        label="outcome.pain_end", allow_none=True, load_default=None, metadata=_limits(outcome.PAIN)
    )
    pgic = StrictInteger(label="outcome.pgic", allow_none=True, load_default=None, metadata=_limits(outcome.PGIC))
    return_to_referrer = fields.Boolean(
        truthy={True},
        falsy={False},
        allow_none=True,
        load_default=None,
        error_messages={"invalid": "outcome.return_to_referrer must be true or false."},
    )
    return_reason = Text(label="outcome.return_reason", max_length=4000)

    @post_load
    def _outcome(self, data: dict, **kwargs) -> Outcome:
        return Outcome(**data)


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
    appointment_at = LocalMoment(
        label="appointment_at",
        allow_none=True,
        load_default=None,
        metadata={
            "description": "Required for in-progress (the first appointment); for no-show, the missed one. "
            "Without an offset it is local time at the location"
        },
    )
    location_id = StrictInteger(
        label="location_id",
        allow_none=True,
        load_default=None,
        validate=validate.Range(1, MAX_DB_ID, error="location_id is not one of the practitioner's locations."),
        metadata={"description": "One of the practitioner's locations; optional when they have only one"},
    )
    reason = fields.String(
        load_default="",
        validate=_one_of("reason", ("", *workflow.FAILURE_REASONS)),
        metadata={"description": "Why a referral failed (required for failed)"},
        error_messages={"invalid": "reason must be a string."},
    )
    outcome = fields.Nested(
        OutcomeInputSchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "Required for completed: sessions at least"},
        error_messages={"type": "outcome must be an object.", "invalid": "outcome must be an object."},
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
