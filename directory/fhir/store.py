"""What the FHIR directory reads: listed practitioners, their locations, certifying bodies.

Only published, unsuspended profiles are found; anything else is "not found" (404).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from directory.extensions import db
from directory.fhir.outcome import FhirError
from directory.fhir.resources import BODY_PREFIX, PRACTICE_PREFIX
from directory.models import Certification, CertifyingBody, PracticeLocation, Practitioner
from directory.security import MAX_DB_ID

ID_RE = re.compile(r"[0-9]{1,12}", re.ASCII)


def practitioner_options():
    """Everything a Practitioner, a role or a location shows of a practitioner, loaded at once."""
    return (
        selectinload(Practitioner.conditions),
        selectinload(Practitioner.licenses),
        selectinload(Practitioner.certifications)
        .joinedload(Certification.body)
        .selectinload(CertifyingBody.credentials),
    )


def location_options():
    """A location with its practitioner and what that practitioner shows."""
    return (joinedload(PracticeLocation.practitioner).options(*practitioner_options()),)


def database_id(raw: str) -> int | None:
    """A database id from a FHIR id ("42"), or None when it cannot be one."""
    if not ID_RE.fullmatch(raw or ""):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_DB_ID else None


def not_found(reference: str) -> FhirError:
    """The 404 of a resource the directory does not show."""
    return FhirError(404, f"{reference} is not in the directory.", "not-found")


def listed_practitioner(raw_id: str) -> Practitioner:
    """A published, unsuspended practitioner by FHIR id, or 404."""
    pid = database_id(raw_id)
    practitioner = db.session.get(Practitioner, pid, options=practitioner_options()) if pid else None
    if practitioner is None or not practitioner.is_listed:
        raise not_found(f"Practitioner/{raw_id[:40]}")
    return practitioner


def listed_location(raw_id: str, kind: str = "Location") -> PracticeLocation:
    """A practice location of a listed practitioner by FHIR id, or 404."""
    lid = database_id(raw_id)
    location = db.session.get(PracticeLocation, lid, options=location_options()) if lid else None
    if location is None or not location.practitioner.is_listed:
        raise not_found(f"{kind}/{raw_id[:40]}")
    return location


def organization(raw_id: str) -> Practitioner | CertifyingBody:
    """The practice (a listed practitioner) or the certifying body an Organization id names, or 404."""
    if raw_id.startswith(PRACTICE_PREFIX):
        try:
            return listed_practitioner(raw_id.removeprefix(PRACTICE_PREFIX))
        except FhirError:
            raise not_found(f"Organization/{raw_id[:40]}") from None
    if raw_id.startswith(BODY_PREFIX):
        slug = raw_id.removeprefix(BODY_PREFIX)
        body = db.session.execute(select(CertifyingBody).where(CertifyingBody.slug == slug)).scalar_one_or_none()
        if body is not None:
            return body
    raise not_found(f"Organization/{raw_id[:40]}")


def locations_by_id(ids: list[int]) -> dict[int, PracticeLocation]:
    """Locations (with their practitioners) by id, in two or three queries."""
    if not ids:
        return {}
    rows = db.session.execute(select(PracticeLocation).where(PracticeLocation.id.in_(ids)).options(*location_options()))
    return {location.id: location for location in rows.unique().scalars()}
