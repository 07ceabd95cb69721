"""The OpenAPI 3.0 description of /api/v1, served at /api/v1/openapi.json.

Only the operations whose routes the app has are described, so the document never promises
what the server cannot answer; tests check that every /api/v1 route is described.
"""

from __future__ import annotations

from flask import Flask

API_PREFIX = "/api/v1"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
FLAG = {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "on", "off", ""]}


def _object(required: list[str], **properties) -> dict:
    return {"type": "object", "required": required, "properties": properties}


def _page(item: str, **extra) -> dict:
    """One page of a list of `item`s with its total count."""
    return _object(
        ["count", "page", "per_page", "results"],
        count={"type": "integer", "minimum": 0},
        page={"type": "integer", "minimum": 1},
        per_page={"type": "integer", "minimum": 1, "maximum": 100},
        results={"type": "array", "items": _ref(item)},
        **extra,
    )


SCHEMAS: dict[str, dict] = {
    "Error": _object(["error"], error={"type": "string", "description": "What is wrong, safe to show"}),
    "Condition": _object(["slug", "name"], slug=STRING, name=STRING),
    "Credential": _object(
        ["body", "credential", "verified"],
        body={"type": "string", "description": "Slug of the certifying body"},
        credential=STRING,
        verified={"type": "boolean", "description": "Verified by an admin and not expired"},
    ),
    "Location": _object(
        ["city", "country", "latitude", "longitude"],
        city=STRING,
        country={"type": "string", "description": "ISO 3166-1 alpha-2"},
        latitude={"type": "number", "minimum": -90, "maximum": 90},
        longitude={"type": "number", "minimum": -180, "maximum": 180},
    ),
    "FullLocation": {
        "allOf": [
            _ref("Location"),
            _object(
                ["id", "address", "region", "postal_code", "label"],
                id=INTEGER,
                address=STRING,
                region=STRING,
                postal_code=STRING,
                label=STRING,
            ),
        ]
    },
    "PractitionerSummary": _object(
        ["id", "name", "distance_km", "conditions", "credentials", "location", "url"],
        id=INTEGER,
        name=STRING,
        distance_km={"type": "number", "minimum": 0},
        conditions={"type": "array", "items": STRING},
        credentials={"type": "array", "items": _ref("Credential")},
        accepting_new_patients=BOOLEAN,
        location=_ref("Location"),
        url={"type": "string", "format": "uri"},
    ),
    "SearchResults": _page(
        "PractitionerSummary",
        count_exact={
            "type": "boolean",
            "description": "false when counting stopped at the site's count limit: count is then a lower bound",
        },
    ),
    "Practitioner": _object(
        ["id", "name", "conditions", "credentials", "locations", "url"],
        id=INTEGER,
        name=STRING,
        practice_name=STRING,
        bio=STRING,
        phone=STRING,
        website=STRING,
        email=_nullable(STRING),
        accepting_new_patients=BOOLEAN,
        session_minutes=_nullable(INTEGER),
        fee_min=_nullable(INTEGER),
        fee_max=_nullable(INTEGER),
        currency=STRING,
        languages={"type": "array", "items": STRING},
        wheelchair_accessible=BOOLEAN,
        conditions={"type": "array", "items": STRING},
        credentials={"type": "array", "items": _ref("Credential")},
        training={
            "type": "array",
            "items": _object(
                ["course"],
                course=STRING,
                provider=STRING,
                hours=_nullable(NUMBER),
                completed_on=_nullable({"type": "string", "format": "date"}),
            ),
        },
        total_training_hours=_nullable(NUMBER),
        licenses={
            "type": "array",
            "items": _object(["profession"], profession=STRING, jurisdiction=STRING, number=STRING),
        },
        locations={"type": "array", "items": _ref("FullLocation")},
        url={"type": "string", "format": "uri"},
    ),
    "Patient": _object(
        ["name"],
        name={"type": "string", "minLength": 1, "maxLength": 120},
        phone=_nullable({"type": "string", "maxLength": 40}),
        email=_nullable({"type": "string", "maxLength": 254}),
        birth_date=_nullable({"type": "string", "format": "date"}),
    ),
    "ReferralEvent": _object(
        ["status", "at"],
        status=STRING,
        at={"type": "string", "format": "date-time"},
        actor=_nullable(STRING),
        note=_nullable(STRING),
    ),
    "Referral": _object(
        ["id", "status", "practitioner_id", "patient", "conditions", "reason", "urgency", "created_at"],
        id=INTEGER,
        status={
            "type": "string",
            "enum": ["requested", "received", "accepted", "rejected", "in-progress", "completed", "cancelled"],
        },
        practitioner_id=_nullable(INTEGER),
        referrer={"nullable": True},
        patient=_ref("Patient"),
        conditions={"type": "array", "items": STRING},
        reason=STRING,
        urgency={"type": "string", "enum": ["routine", "urgent", "asap"]},
        created_at={"type": "string", "format": "date-time"},
        events={"type": "array", "items": _ref("ReferralEvent")},
    ),
    "ReferralList": _page("Referral"),
    "NewReferral": _object(
        ["practitioner_id", "patient", "reason", "urgency", "consent"],
        practitioner_id=INTEGER,
        patient=_ref("Patient"),
        conditions={"type": "array", "items": STRING},
        reason={"type": "string", "minLength": 1},
        clinical_notes=STRING,
        urgency={"type": "string", "enum": ["routine", "urgent", "asap"]},
        preferred_contact=STRING,
        consent={"type": "boolean", "description": "The patient agreed to share these details; must be true"},
    ),
    "Transition": _object(
        ["status"],
        status={
            "type": "string",
            "enum": ["received", "accepted", "rejected", "in-progress", "completed", "cancelled"],
        },
        note=STRING,
        appointment_at={"type": "string", "format": "date-time", "description": "Required for in-progress"},
    ),
    "FhirBundle": _object(
        ["resourceType", "type", "entry"],
        resourceType={"type": "string", "enum": ["Bundle"]},
        type=STRING,
        entry={"type": "array", "items": {"type": "object"}},
    ),
    "Me": _object(["id", "email", "role"], id=INTEGER, email=STRING, role=STRING, name=STRING),
}

PAGE = {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1}}
REFERRAL_PAGE = {
    "name": "page",
    "in": "query",
    "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1},
}
PER_PAGE = {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}
REFERRAL_ID = {"name": "referral_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
BEARER = [{"bearerAuth": []}]
NEED_TOKEN = {"401": _error("No valid token"), "403": _error("Not allowed for this account")}
HIDDEN = {"404": _error("No such referral, or not yours to see")}

SEARCH_PARAMETERS = [
    {"name": "lat", "in": "query", "schema": {"type": "number", "minimum": -90, "maximum": 90}},
    {"name": "lon", "in": "query", "schema": {"type": "number", "minimum": -180, "maximum": 180}},
    {
        "name": "near",
        "in": "query",
        "description": "A US ZIP code, a town, 'town, state' or 'town, country' (instead of lat and lon)",
        "schema": {"type": "string", "maxLength": 200},
    },
    {
        "name": "radius_km",
        "in": "query",
        "schema": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": 500, "default": 50},
    },
    {
        "name": "condition",
        "in": "query",
        "description": "Condition slugs (repeat the parameter); every one must match",
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": {"type": "string"}},
    },
    {"name": "verified", "in": "query", "schema": FLAG},
    {"name": "accepting", "in": "query", "schema": FLAG},
    {"name": "language", "in": "query", "schema": {"type": "string", "maxLength": 40}},
    PAGE,
    PER_PAGE,
]

# (path as in the document, Flask rule, method) -> operation
OPERATIONS: list[tuple[str, str, str, dict]] = [
    (
        "/practitioners",
        "/api/v1/practitioners",
        "get",
        {
            "operationId": "searchPractitioners",
            "summary": "Practitioners near a place, nearest first",
            "description": "Give `lat` and `lon`, or `near`. Distances are great-circle km to the nearest location.",
            "parameters": SEARCH_PARAMETERS,
            "responses": {"200": _json(_ref("SearchResults"), "One page of results"), "400": _error("Bad input")},
        },
    ),
    (
        "/practitioners/{practitioner_id}",
        "/api/v1/practitioners/<int:practitioner_id>",
        "get",
        {
            "operationId": "getPractitioner",
            "summary": "A published practitioner's profile",
            "parameters": [
                {"name": "practitioner_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
            ],
            "responses": {"200": _json(_ref("Practitioner"), "The profile"), "404": _error("Not listed")},
        },
    ),
    (
        "/conditions",
        "/api/v1/conditions",
        "get",
        {
            "operationId": "listConditions",
            "summary": "The condition taxonomy",
            "responses": {"200": _json({"type": "array", "items": _ref("Condition")}, "Every condition")},
        },
    ),
    (
        "/me",
        "/api/v1/me",
        "get",
        {
            "operationId": "getMe",
            "summary": "The account the token belongs to",
            "security": BEARER,
            "responses": {"200": _json(_ref("Me"), "The caller"), "401": _error("No valid token")},
        },
    ),
    (
        "/referrals",
        "/api/v1/referrals",
        "post",
        {
            "operationId": "createReferral",
            "summary": "Refer a patient to a practitioner (verified providers only)",
            "security": BEARER,
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewReferral")}}},
            "responses": {
                "201": _json(_ref("Referral"), "The new referral"),
                "400": _error("Bad input: missing consent, unknown condition or practitioner, no patient name"),
                **NEED_TOKEN,
            },
        },
    ),
    (
        "/referrals",
        "/api/v1/referrals",
        "get",
        {
            "operationId": "listReferrals",
            "summary": "Referrals sent (provider), received (practitioner) or all (admin), newest first",
            "security": BEARER,
            "parameters": [REFERRAL_PAGE, PER_PAGE],
            "responses": {
                "200": _json(_ref("ReferralList"), "One page of referrals"),
                "400": _error("Bad paging"),
                **NEED_TOKEN,
            },
        },
    ),
    (
        "/referrals/{referral_id}",
        "/api/v1/referrals/<int:referral_id>",
        "get",
        {
            "operationId": "getReferral",
            "summary": "One referral with its timeline; a first read by the recipient marks it received",
            "security": BEARER,
            "parameters": [REFERRAL_ID],
            "responses": {"200": _json(_ref("Referral"), "The referral"), **NEED_TOKEN, **HIDDEN},
        },
    ),
    (
        "/referrals/{referral_id}/transitions",
        "/api/v1/referrals/<int:referral_id>/transitions",
        "post",
        {
            "operationId": "transitionReferral",
            "summary": "Move a referral to its next status",
            "security": BEARER,
            "parameters": [REFERRAL_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Transition")}}},
            "responses": {
                "200": _json(_ref("Referral"), "The updated referral"),
                "400": _error("Bad input"),
                **NEED_TOKEN,
                **HIDDEN,
                "409": _error("Not a legal move from the current status, or someone moved it first"),
            },
        },
    ),
    (
        "/referrals/{referral_id}/fhir",
        "/api/v1/referrals/<int:referral_id>/fhir",
        "get",
        {
            "operationId": "getReferralFhir",
            "summary": "The referral as a FHIR R4 Bundle (ServiceRequest and Task)",
            "security": BEARER,
            "parameters": [REFERRAL_ID],
            "responses": {
                "200": {
                    "description": "A FHIR R4 Bundle",
                    "content": {
                        "application/fhir+json": {"schema": _ref("FhirBundle")},
                        "application/json": {"schema": _ref("FhirBundle")},
                    },
                },
                **NEED_TOKEN,
                **HIDDEN,
            },
        },
    ),
]

# Answers any operation may give besides its own.
COMMON_RESPONSES = {"405": _error("Method not allowed"), "429": _error("Too many requests")}


def _app_rules(app: Flask) -> set[tuple[str, str]]:
    """(rule, method) for every route of the app under the API prefix."""
    return {
        (rule.rule, method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API_PREFIX)
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }


def described_rules() -> set[tuple[str, str]]:
    """(Flask rule, method) of every operation this module can describe."""
    return {(rule, method) for _, rule, method, _ in OPERATIONS}


def openapi_document(app: Flask) -> dict:
    """The OpenAPI document for the routes this app has."""
    present = _app_rules(app)
    paths: dict[str, dict] = {}
    for path, rule, method, described in OPERATIONS:
        if (rule, method) not in present:
            continue
        operation = {"security": [], **described, "responses": {**described["responses"], **COMMON_RESPONSES}}
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "CST Directory API",
            "version": "1.0.0",
            "description": (
                "Find craniosacral therapy practitioners, and send and follow referrals. "
                'Errors are JSON: {"error": "..."}. Referral routes need `Authorization: Bearer TOKEN` '
                "(create a token on your account page or with `flask --app wsgi create-api-token EMAIL`)."
            ),
        },
        "servers": [{"url": API_PREFIX}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
