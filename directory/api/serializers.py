"""Dump helpers for code outside the views (the search benchmark): the API's own schemas."""

from __future__ import annotations

from typing import NamedTuple

from directory.api.schemas import PractitionerSchema, PractitionerSummarySchema
from directory.models import PracticeLocation, Practitioner


class _Hit(NamedTuple):
    practitioner: Practitioner
    distance_km: float
    location: PracticeLocation


def practitioner_summary(practitioner: Practitioner, distance_km: float, location: PracticeLocation) -> dict:
    """A search result, exactly as GET /api/v1/practitioners writes it."""
    return PractitionerSummarySchema().dump(_Hit(practitioner, distance_km, location))


def practitioner_detail(practitioner: Practitioner) -> dict:
    """A whole public profile, exactly as GET /api/v1/practitioners/<id> writes it."""
    return PractitionerSchema().dump(practitioner)
