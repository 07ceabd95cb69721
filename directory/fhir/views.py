"""The FHIR R4 directory under /fhir/r4: JSON only, read and search, no authentication."""

from __future__ import annotations

from flask import Blueprint, request

from directory.fhir import capability, resources, search, store
from directory.fhir.outcome import FhirError, check_format, error_response, fhir_response
from directory.models import CertifyingBody
from directory.practitioners.lookups import all_conditions

bp = Blueprint("fhir", __name__, url_prefix="/fhir/r4")
# The date of this server's capabilities (changes when what is supported changes).
CAPABILITY_DATE = "2026-12-01"


@bp.before_request
def json_only():
    """XML (by _format or Accept) answers 406 before any view runs."""
    check_format()


@bp.errorhandler(FhirError)
def refused(error: FhirError):
    """A refusal as an OperationOutcome."""
    return error_response(error)


@bp.get("/metadata")
def metadata():
    """The CapabilityStatement."""
    return fhir_response(capability.capability_statement(CAPABILITY_DATE))


@bp.get("/CodeSystem/conditions")
def conditions():
    """The site's conditions of focus as a CodeSystem."""
    return fhir_response(resources.conditions_code_system(all_conditions()))


@bp.get("/Practitioner/<practitioner_id>")
def read_practitioner(practitioner_id: str):
    """One listed practitioner."""
    return fhir_response(resources.practitioner_resource(store.listed_practitioner(practitioner_id)))


@bp.get("/PractitionerRole/<location_id>")
def read_role(location_id: str):
    """One role: a listed practitioner at one of their practice locations."""
    return fhir_response(resources.role_resource(store.listed_location(location_id, "PractitionerRole")))


@bp.get("/Location/<location_id>")
def read_location(location_id: str):
    """One practice location of a listed practitioner."""
    return fhir_response(resources.location_resource(store.listed_location(location_id)))


@bp.get("/Organization/<organization_id>")
def read_organization(organization_id: str):
    """A practice (practice-<id>) or a certifying body (body-<slug>)."""
    found = store.organization(organization_id)
    if isinstance(found, CertifyingBody):
        return fhir_response(resources.body_resource(found))
    return fhir_response(resources.practice_resource(found))


@bp.get("/Practitioner")
def search_practitioners():
    """Practitioner?name=...&identifier=..."""
    return fhir_response(search.search_bundle("Practitioner", request.args))


@bp.get("/PractitionerRole")
def search_roles():
    """PractitionerRole?location.near=...&specialty=...&practitioner=...&_include=..."""
    return fhir_response(search.search_bundle("PractitionerRole", request.args))


@bp.get("/Location")
def search_locations():
    """Location?near=LAT|LON|DIST|UNIT, nearest first."""
    return fhir_response(search.search_bundle("Location", request.args))


@bp.get("/Organization")
def search_organizations():
    """Organization?type=..."""
    return fhir_response(search.search_bundle("Organization", request.args))


# The referral routes (ServiceRequest, Task) live in their own module on this blueprint.
from directory.fhir import referrals as _referrals  # noqa: E402,F401
