"""The JSON API, version 1: search, profiles and the condition taxonomy.

Each view names the schemas of what it reads and writes (directory/api/schemas.py); those
declarations are also the OpenAPI document served at /api/v1/openapi.json (contract.py).
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify

from directory.api.contract import API_PREFIX, ApiBlueprint, openapi_document, operation
from directory.api.schemas import (
    ConditionSchema,
    MeSchema,
    PractitionerSchema,
    SearchArgsSchema,
    SearchResultsSchema,
)
from directory.auth import api_login_required
from directory.extensions import csrf
from directory.practitioners.lookups import all_conditions, get_listed_practitioner_or_404
from directory.search import SearchError, search_practitioners

bp = ApiBlueprint("api", __name__, url_prefix=API_PREFIX, description="The CST directory's JSON API")
# The API authenticates with bearer tokens, not cookies: no CSRF token to send.
csrf.exempt(bp)


@bp.errorhandler(SearchError)
def bad_search(error: SearchError):
    """Bad search input: 400 with what is wrong."""
    return jsonify(error=str(error)), 400


@bp.get("/practitioners")
@operation(bp, "searchPractitioners", errors={400: "Bad input: no place, an unknown place or condition, a bad value"})
@bp.arguments(SearchArgsSchema, location="query")
@bp.response(200, SearchResultsSchema, description="One page of results")
def list_practitioners(parsed):
    """Practitioners near a place, nearest first (or by `sort`), with any of the filters.

    Give `lat` and `lon`, or `near`. Distances are great-circle km to the nearest location.
    """
    result = search_practitioners(parsed.query)
    if result.past_last_page:
        raise SearchError(f"page {parsed.query.page} is past the last page: this search has {result.pages} page(s)")
    return {
        "count": result.count,
        "count_exact": result.count_exact,
        "page": parsed.query.page,
        "per_page": parsed.query.per_page,
        "results": result.hits,
        "place": parsed.place.summary(),
        "alternatives": [other.summary() for other in parsed.place.alternatives],
    }


@bp.get("/practitioners/<int:practitioner_id>")
@operation(bp, "getPractitioner", errors={404: "Not listed"})
@bp.response(200, PractitionerSchema, description="The profile")
def get_practitioner(practitioner_id: int):
    """A published practitioner's profile."""
    return get_listed_practitioner_or_404(practitioner_id)


@bp.get("/conditions")
@operation(bp, "listConditions")
@bp.response(200, ConditionSchema(many=True), description="Every condition")
def list_conditions():
    """The condition taxonomy."""
    return all_conditions()


@bp.get("/me")
@operation(bp, "getMe", token=True, errors={401: "No valid token"})
@api_login_required
@bp.response(200, MeSchema, description="The caller")
def me():
    """The account the token (or the signed-in session) belongs to."""
    return g.api_user


def openapi():
    """The OpenAPI description of this API."""
    return jsonify(openapi_document(current_app))


# The document describes the API, not itself: registered past flask-smorest's documentation.
Blueprint.add_url_rule(bp, "/openapi.json", "openapi", openapi)

# The referral routes live in their own module on this blueprint.
# The practitioner's own profile (issue 12) lives in its own module on this blueprint.
from directory.api import profile as _profile  # noqa: E402,F401
from directory.api import referrals as _referrals  # noqa: E402,F401

# Webhook endpoints (issue 14) live in the webhooks package, on this blueprint.
from directory.webhooks import api as _webhooks  # noqa: E402,F401
