"""Schemas of the public payloads: search, profiles, conditions, the caller, errors.

Each schema shapes the JSON the API writes (views dump with it) and is the OpenAPI component of
the same name (`PractitionerSummarySchema` is `PractitionerSummary`). Limits of the search query
come from `directory.search`, whose parser validates it for the page and the API alike.
"""

from __future__ import annotations

from flask import request
from marshmallow import Schema, fields, validate
from marshmallow.utils import missing

from directory.mail import site_url
from directory.models import Role
from directory.search import (
    DEFAULT_PER_PAGE,
    DEFAULT_RADIUS_KM,
    FALSE_WORDS,
    GENDERS,
    MAX_FEE,
    MAX_LANGUAGE_LENGTH,
    MAX_NEAR_LENGTH,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_RADIUS_KM,
    MAX_SESSION_MINUTES,
    SORTS,
    TRUE_WORDS,
    SearchError,
    parse_search_args,
)

# The search's own limits (tests/test_api_contract.py checks that the parser agrees with each).
FLAG_WORDS = sorted(TRUE_WORDS | FALSE_WORDS)


def gender_field(**kwargs) -> fields.String:
    """A practitioner's stated gender, or null when they do not say."""
    return fields.String(
        allow_none=True,
        metadata={"enum": [*GENDERS, None], "description": "female, male or nonbinary; null when not stated"},
        **kwargs,
    )


class SiteUrl(fields.String):
    """The absolute link of a page about the dumped object, built from SITE_URL, never the Host header."""

    def __init__(self, endpoint: str, param: str, attribute: str = "id", **kwargs):
        self.endpoint, self.param, self.source = endpoint, param, attribute
        super().__init__(required=True, metadata={"format": "uri"}, **kwargs)

    def get_value(self, obj, attr, accessor=None, default=missing):
        """The link, from the object's id."""
        value = fields.Field.get_value(self, obj, self.source, accessor)
        return site_url(self.endpoint, **{self.param: value})


class ErrorSchema(Schema):
    """What every refusal answers."""

    error = fields.String(required=True, metadata={"description": "What is wrong, safe to show"})


class ConditionSchema(Schema):
    """A condition of the taxonomy."""

    slug = fields.String(required=True)
    name = fields.String(required=True)


class CredentialSchema(Schema):
    """A credential and whether it counts as verified today."""

    body = fields.Pluck("BodySchema", "slug", required=True, metadata={"description": "Slug of the certifying body"})
    credential = fields.String(required=True)
    verified = fields.Boolean(
        required=True,
        attribute="is_currently_verified",
        metadata={"description": "Verified by an admin and not expired"},
    )


class BodySchema(Schema):
    """A certifying body (only its slug is shown, plucked into CredentialSchema)."""

    slug = fields.String(required=True)


class Credentials(fields.Nested):
    """A practitioner's credentials, rejected ones left out."""

    def __init__(self, **kwargs):
        super().__init__(CredentialSchema, many=True, required=True, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        shown = [c for c in value or () if c.status.value != "rejected"]
        return super()._serialize(shown, attr, obj, **kwargs)


class LocationSchema(Schema):
    """Where a practitioner works, as a search result shows it."""

    city = fields.String(required=True)
    country = fields.String(required=True, metadata={"description": "ISO 3166-1 alpha-2"})
    latitude = fields.Float(required=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(required=True, validate=validate.Range(-180, 180))


class FullLocationSchema(LocationSchema):
    """A practice location on a profile."""

    id = fields.Integer(required=True)
    address = fields.String(required=True)
    region = fields.String(required=True)
    postal_code = fields.String(required=True)
    label = fields.String(required=True)


class Distance(fields.Float):
    """Kilometres, rounded to metres."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else round(value, 3)


class PractitionerSummarySchema(Schema):
    """A search result: dumped from a search hit (practitioner, distance_km, nearest location)."""

    id = fields.Integer(required=True, attribute="practitioner.id")
    name = fields.String(required=True, attribute="practitioner.display_name")
    distance_km = Distance(required=True, validate=validate.Range(min=0))
    conditions = fields.Pluck(ConditionSchema, "slug", many=True, required=True, attribute="practitioner.conditions")
    credentials = Credentials(attribute="practitioner.certifications")
    accepting_new_patients = fields.Boolean(attribute="practitioner.accepting_new_patients")
    session_minutes = fields.Integer(allow_none=True, attribute="practitioner.session_minutes")
    fee_min = fields.Integer(allow_none=True, attribute="practitioner.fee_min")
    fee_max = fields.Integer(allow_none=True, attribute="practitioner.fee_max")
    currency = fields.String(attribute="practitioner.currency", metadata={"description": "ISO 4217, e.g. USD"})
    languages = fields.List(
        fields.String(), attribute="practitioner.languages", metadata={"description": "English names, e.g. Spanish"}
    )
    wheelchair_accessible = fields.Boolean(attribute="practitioner.wheelchair_accessible")
    gender = gender_field(attribute="practitioner.gender")
    location = fields.Nested(LocationSchema, required=True)
    url = SiteUrl("public.profile", "practitioner_id", attribute="practitioner.id")


class PlaceSchema(Schema):
    """A place a search was centred on, or another place the same words could mean."""

    name = fields.String(required=True)
    latitude = fields.Float(required=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(required=True, validate=validate.Range(-180, 180))


class SearchResultsSchema(Schema):
    """One page of search results, in the order asked (`sort`: nearest first by default)."""

    place = fields.Nested(PlaceSchema, metadata={"description": "the place the search was centred on"})
    alternatives = fields.Nested(
        PlaceSchema,
        many=True,
        metadata={"description": 'other places `near` could mean ("Springfield"), most populous first'},
    )

    count = fields.Integer(required=True, validate=validate.Range(min=0))
    count_exact = fields.Boolean(
        metadata={"description": "false when counting stopped at the site's count limit: count is then a lower bound"}
    )
    page = fields.Integer(required=True, validate=validate.Range(min=1))
    per_page = fields.Integer(required=True, validate=validate.Range(1, MAX_PER_PAGE))
    results = fields.Nested(PractitionerSummarySchema, many=True, required=True)


class TrainingSchema(Schema):
    """A course a practitioner took."""

    course = fields.String(required=True)
    provider = fields.String()
    hours = fields.Float(allow_none=True)
    completed_on = fields.Date(allow_none=True)


class LicenseSchema(Schema):
    """A professional licence."""

    profession = fields.String(required=True)
    jurisdiction = fields.String()
    number = fields.String()


class PractitionerSchema(Schema):
    """A whole public profile."""

    id = fields.Integer(required=True)
    name = fields.String(required=True, attribute="display_name")
    practice_name = fields.String()
    bio = fields.String()
    phone = fields.String()
    website = fields.String()
    email = fields.Function(lambda p: p.email if p.show_email else None, allow_none=True, metadata={"type": "string"})
    accepting_new_patients = fields.Boolean()
    session_minutes = fields.Integer(allow_none=True)
    fee_min = fields.Integer(allow_none=True)
    fee_max = fields.Integer(allow_none=True)
    currency = fields.String(metadata={"description": "ISO 4217, e.g. USD"})
    languages = fields.List(
        fields.String(), attribute="language_list", metadata={"description": "English names, e.g. Spanish"}
    )
    wheelchair_accessible = fields.Boolean()
    gender = gender_field()
    conditions = fields.Pluck(ConditionSchema, "slug", many=True, required=True)
    credentials = Credentials(attribute="certifications")
    training = fields.Nested(TrainingSchema, many=True, attribute="trainings")
    total_training_hours = fields.Float(allow_none=True)
    licenses = fields.Nested(LicenseSchema, many=True)
    locations = fields.Nested(FullLocationSchema, many=True, required=True)
    url = SiteUrl("public.profile", "practitioner_id")
    photo_url = fields.Function(
        lambda p: site_url("practitioners.photo", practitioner_id=p.id, photo=p.photo_path) if p.photo_path else None,
        allow_none=True,
        metadata={"type": "string", "format": "uri", "description": "The profile photo (JPEG), or null."},
    )


class MeSchema(Schema):
    """The account a token belongs to."""

    id = fields.Integer(required=True)
    email = fields.String(required=True)
    role = fields.Function(
        lambda user: user.role.value, required=True, metadata={"type": "string", "enum": [r.value for r in Role]}
    )


class SearchArgsSchema(Schema):
    """The search query string: documented here, validated by `directory.search.parse_search_args`.

    The /search page parses the same parameters with the same function, so this schema only
    describes them (with the parser's own limits) and hands the query string to that parser:
    one set of rules, one set of messages.
    """

    lat = fields.Float(validate=validate.Range(-90, 90))
    lon = fields.Float(validate=validate.Range(-180, 180))
    near = fields.String(
        validate=validate.Length(max=MAX_NEAR_LENGTH),
        metadata={"description": "A postcode, a town, 'town, region' or 'town, country' (instead of lat and lon)"},
    )
    radius_km = fields.Float(
        load_default=DEFAULT_RADIUS_KM,
        validate=validate.Range(0, MAX_RADIUS_KM, min_inclusive=False),
    )
    condition = fields.List(
        fields.String(), metadata={"description": "Condition slugs (repeat the parameter); every one must match"}
    )
    verified = fields.String(
        validate=validate.OneOf(FLAG_WORDS), metadata={"description": "1: only practitioners with a current credential"}
    )
    accepting = fields.String(
        validate=validate.OneOf(FLAG_WORDS), metadata={"description": "1: only practitioners accepting new patients"}
    )
    language = fields.String(
        validate=validate.Length(max=MAX_LANGUAGE_LENGTH),
        metadata={
            "description": "A language in any spelling: its name in English or in itself, or its code "
            "(Spanish, spanish, Español and es are the same filter); an unknown language is refused"
        },
    )
    fee_max = fields.Integer(
        validate=validate.Range(0, MAX_FEE),
        metadata={
            "description": "Fees from at most this much, in whole units of the practitioner's currency "
            "(their lowest fee counts); a practitioner who states no fee is left out"
        },
    )
    session_minutes = fields.Integer(
        validate=validate.Range(1, MAX_SESSION_MINUTES),
        metadata={"description": "Sessions of at least this many minutes"},
    )
    wheelchair = fields.String(
        validate=validate.OneOf(FLAG_WORDS), metadata={"description": "1: only wheelchair-accessible practices"}
    )
    gender = fields.String(
        validate=validate.OneOf([*GENDERS, "non-binary"]),
        metadata={"description": "The practitioner's stated gender; those who do not state it are left out"},
    )
    sort = fields.String(
        load_default=SORTS[0],
        validate=validate.OneOf(SORTS),
        metadata={
            "description": "distance: nearest first; name: by name; verified: currently verified first, "
            "most recently verified first, then nearest"
        },
    )
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE))
    per_page = fields.Integer(load_default=DEFAULT_PER_PAGE, validate=validate.Range(1, MAX_PER_PAGE))

    def load(self, data, **kwargs):
        """The parsed search (or SearchError), from the query string by the search's own parser."""
        args = request.args
        if "radius" in args and "radius_km" not in args:
            raise SearchError("use radius_km")
        parsed = parse_search_args(args)
        if parsed is None:
            raise SearchError("give lat and lon, or near")
        return parsed
