"""The JSON API, version 1: search, profiles and the condition taxonomy."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from directory.api.serializers import practitioner_detail, practitioner_summary
from directory.auth import api_login_required
from directory.extensions import csrf
from directory.public.views import all_conditions, get_listed_practitioner_or_404
from directory.search import SearchError, parse_search_args, search_practitioners

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# The API authenticates with bearer tokens, not cookies: no CSRF token to send.
csrf.exempt(bp)


@bp.errorhandler(SearchError)
def bad_search(error: SearchError):
    """Bad search input: 400 with what is wrong."""
    return jsonify(error=str(error)), 400


@bp.get("/practitioners")
def list_practitioners():
    """Search practitioners: lat+lon or near, radius_km, condition, verified, accepting, page, per_page."""
    args = request.args
    if "radius" in args and "radius_km" not in args:
        raise SearchError("use radius_km")
    parsed = parse_search_args(args)
    if parsed is None:
        raise SearchError("give lat and lon, or near")
    result = search_practitioners(parsed.query)
    return jsonify(
        count=result.count,
        count_exact=result.count_exact,
        page=parsed.query.page,
        per_page=parsed.query.per_page,
        results=[practitioner_summary(h.practitioner, h.distance_km, h.location) for h in result.hits],
    )


@bp.get("/practitioners/<int:practitioner_id>")
def get_practitioner(practitioner_id: int):
    """One published practitioner."""
    return jsonify(practitioner_detail(get_listed_practitioner_or_404(practitioner_id)))


@bp.get("/conditions")
def list_conditions():
    """The condition taxonomy."""
    return jsonify([{"slug": c.slug, "name": c.name} for c in all_conditions()])


@bp.get("/me")
@api_login_required
def me():
    """Who the token (or the signed-in session) belongs to."""
    user = g.api_user
    return jsonify(id=user.id, email=user.email, role=user.role.value)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI description of this API."""
    from directory.api.openapi import openapi_document

    return jsonify(openapi_document(current_app))


# The referral routes live in their own module on this blueprint.
from directory.api import referrals as _referrals  # noqa: E402,F401
