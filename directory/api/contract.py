"""The API's contract: flask-smorest builds /api/v1/openapi.json from the schemas the views use.

Every view declares its input schema (`@bp.arguments`), its output schema (`@bp.response`) and
its refusals (`@operation`); the same declarations validate, shape and document, so the three
cannot drift. Two things stay the site's own: errors keep the shape `{"error": "one sentence"}`
with status 400 (not webargs' 422 with a dict), and flask-smorest does not take over the error
handling of the whole site (directory/errors.py answers JSON here and pages elsewhere).
"""

from __future__ import annotations

import flask_smorest
from flask import Flask
from flask_smorest.spec.plugins import FlaskPlugin
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import BadRequest

from directory.api.schemas import ErrorSchema

API_PREFIX = "/api/v1"
JSON_OBJECT = "Send a JSON object with Content-Type: application/json."
BEARER = [{"bearerAuth": []}]
# A referral's own routes: a bearer token (or the site's session cookie) says who asks, and a
# caller who is not a party, with or without credentials, gets the same 404 (README, Referrals).
# So the token is optional in OpenAPI's sense: `{}` says the route also answers without one.
BEARER_OR_HIDDEN = [{"bearerAuth": []}, {}]
# Answers any operation may give besides its own.
COMMON_ERRORS = {
    405: "Method not allowed",
    429: "Too many requests: past a rate limit (per address, or per token with one; directory/ratelimits.py)",
}
# What a 429 says besides its error: when to ask again.
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before asking again",
        "schema": {"type": "integer", "minimum": 1},
    }
}
DESCRIPTION = (
    "Find craniosacral therapy practitioners, and send and follow referrals. "
    'Errors are JSON: {"error": "..."}. Referral routes need `Authorization: Bearer TOKEN` '
    "(create a token on your account page or with `flask --app wsgi create-api-token EMAIL`)."
)


def first_message(messages, path: str = "") -> str:
    """One readable sentence from marshmallow's nested messages: the first refusal found."""
    if isinstance(messages, dict):
        key, value = next(iter(messages.items()))
        inner = path if key in ("_schema", "json", "query") or isinstance(key, int) else f"{path}{key}."
        return first_message(value, inner)
    if isinstance(messages, list | tuple):
        return first_message(messages[0], path)
    text = str(messages)
    # Our own messages name their field; marshmallow's defaults ("Not a valid string.") do not.
    return text if not path or path.rstrip(".") in text else f"{path.rstrip('.')}: {text}"


class Parser(FlaskParser):
    """webargs' parser, refusing bad input with 400 and one sentence."""

    DEFAULT_VALIDATION_STATUS = 400

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        """A refused value: 400 {"error": "..."} through the site's error handler."""
        raise BadRequest(first_message(error.messages))

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise BadRequest(JSON_OBJECT)


class ApiBlueprint(flask_smorest.Blueprint):
    """A blueprint whose views declare their schemas; bad input answers the site's 400."""

    ARGUMENTS_PARSER = Parser()


class RelativePaths(FlaskPlugin):
    """Paths relative to the document's server `/api/v1`, as clients and schemathesis read them."""

    def path_helper(self, rule, operations, parameters, **kwargs):
        """`/api/v1/referrals/<int:referral_id>` is documented as `/referrals/{referral_id}`."""
        path = super().path_helper(rule=rule, operations=operations, parameters=parameters, **kwargs)
        return path.removeprefix(API_PREFIX) or "/"


class ContractApi(flask_smorest.Api):
    """flask-smorest's Api, documenting only: the site keeps its own error handlers."""

    ERROR_SCHEMA = ErrorSchema
    # No catch-all "default" response: every status an operation answers is listed.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        """Nothing: directory/errors.py answers errors for the API and the pages alike."""

    def _register_pagination_header(self):
        """Nothing: lists carry their paging in the body, not in an X-Pagination header."""

    def _register_etag_headers(self):
        """Nothing: the API sends no ETags."""


def register_api(app: Flask, blueprint: ApiBlueprint) -> ContractApi:
    """Register the API blueprint and build its OpenAPI document."""
    api = ContractApi(
        app,
        spec_kwargs={
            "title": "CST Directory API",
            "version": "1.0.0",
            "openapi_version": "3.0.3",
            "flask_plugin": RelativePaths(),
            "info": {"description": DESCRIPTION},
            "servers": [{"url": API_PREFIX}],
        },
    )
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(blueprint)
    return api


def openapi_document(app: Flask) -> dict:
    """The OpenAPI document of the app's API."""
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def operation(
    blueprint: ApiBlueprint,
    operation_id: str,
    *,
    token: bool = False,
    hidden_without_token: bool = False,
    errors: dict[int, str] | None = None,
):
    """Document a view: its operationId, whether it needs a bearer token, and its refusals.

    `hidden_without_token`: the route reads a token when one is sent, and answers a caller
    without one (or who may not see the record) 404, like any stranger.
    """
    security = BEARER_OR_HIDDEN if hidden_without_token else BEARER if token else []

    def decorator(view):
        for status, description in {**(errors or {}), **COMMON_ERRORS}.items():
            headers = RETRY_AFTER if status == 429 else None
            view = blueprint.alt_response(status, schema=ErrorSchema, description=description, headers=headers)(view)
        return blueprint.doc(operationId=operation_id, security=security)(view)

    return decorator
