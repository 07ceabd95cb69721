"""OperationOutcome answers and the JSON-only rule of the FHIR directory."""

from __future__ import annotations

import json

from flask import Response, request

FHIR_JSON = "application/fhir+json"
JSON_FORMATS = {"json", "application/json", "application/fhir+json", "application/json+fhir"}
# What the Accept header may ask for and get: FHIR JSON, plain JSON, or anything.
ACCEPTED_TYPES = ["application/fhir+json", "application/json", "application/json+fhir"]


class FhirError(Exception):
    """A request the FHIR directory refuses: the status and an OperationOutcome issue code."""

    def __init__(self, status: int, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def issue(message: str, code: str = "invalid", severity: str = "error") -> dict:
    """One OperationOutcome issue."""
    return {"severity": severity, "code": code, "diagnostics": message}


def operation_outcome(issues: list[dict]) -> dict:
    """An OperationOutcome resource holding the issues."""
    return {"resourceType": "OperationOutcome", "issue": issues}


def fhir_response(resource: dict, status: int = 200) -> Response:
    """A resource answered as `application/fhir+json`."""
    body = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, mimetype=FHIR_JSON)


def error_response(error: FhirError) -> Response:
    """The refusal as an OperationOutcome with its status."""
    return fhir_response(operation_outcome([issue(str(error), error.code)]), error.status)


def check_format() -> None:
    """Only JSON is served: `_format` or an Accept header asking for anything else answers 406."""
    formats = request.args.getlist("_format")
    if len(formats) > 1:
        raise FhirError(400, "_format may be given only once")
    if formats and formats[0].strip().lower() not in JSON_FORMATS:
        raise FhirError(
            406, f"Only JSON is served (application/fhir+json); _format={formats[0][:40]!r} is not.", "not-supported"
        )
    if not formats and request.accept_mimetypes and request.accept_mimetypes.best_match(ACCEPTED_TYPES) is None:
        raise FhirError(406, "Only JSON is served: ask for application/fhir+json.", "not-supported")
