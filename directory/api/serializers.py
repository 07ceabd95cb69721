"""Dump helpers for code outside the views (the search benchmark): the API's own schemas."""

from __future__ import annotations

from typing import NamedTuple

from directory.api.schemas import PractitionerSchema, PractitionerSummarySchema
from directory.models import PracticeLocation, Practitioner


class _AsSearchView:
    """An ORM practitioner read as a search result's view: languages as a list of names."""

    def __init__(self, practitioner: Practitioner) -> None:
        self._practitioner = practitioner

    def __getattr__(self, name: str):
        return getattr(self._practitioner, name)

    @property
    def languages(self) -> list[str]:
        """The names, as PractitionerView.languages holds them."""
        return self._practitioner.language_list


class _Hit(NamedTuple):
    practitioner: _AsSearchView
    distance_km: float
    location: PracticeLocation


def practitioner_summary(practitioner: Practitioner, distance_km: float, location: PracticeLocation) -> dict:
    """A search result, exactly as GET /api/v1/practitioners writes it."""
    return PractitionerSummarySchema().dump(_Hit(_AsSearchView(practitioner), distance_km, location))


def practitioner_detail(practitioner: Practitioner) -> dict:
    """A whole public profile, exactly as GET /api/v1/practitioners/<id> writes it."""
    return PractitionerSchema().dump(practitioner)
