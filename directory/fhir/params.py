"""FHIR search parameters: each type's table, the paging, and the checks of every value.

`PARAMETERS` is the one list of what each type can be searched by: the searches accept it and
the CapabilityStatement is written from it. `near` and `location.near` become the site's own
query through `parse_search_args`, so the same limits hold (radius at most 500 km, at most 100
a page) with the same messages. A parameter this server does not know is ignored and reported;
a malformed one is refused (400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from directory.fhir import codes
from directory.fhir.outcome import FhirError, issue
from directory.search import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, SearchError, parse_search_args, taxonomy

NEAR_HELP = "LAT|LON|DIST|UNIT, e.g. 40.015|-105.27|25|km (UNIT km or mi; DIST at most 500 km)"
# name -> (FHIR search parameter type, what it does): the CapabilityStatement is written from this.
PARAMETERS: dict[str, dict[str, tuple[str, str]]] = {
    "Location": {
        "near": ("special", f"{NEAR_HELP}; nearest first, each with its distance (location-distance)"),
    },
    "PractitionerRole": {
        "location.near": ("special", f"{NEAR_HELP}; nearest first, one role per practitioner, as the site's search"),
        "specialty": (
            "token",
            "A condition: CODE or SYSTEM|CODE (the site's conditions or SNOMED CT); repeat for all of several",
        ),
        "practitioner": ("reference", "The roles of one practitioner: ID or Practitioner/ID"),
    },
    "Practitioner": {
        "name": ("string", "The start of any word of the name, any case; a comma separates alternatives"),
        "identifier": ("token", "VALUE or SYSTEM|VALUE: the site's practitioner number or a licence number"),
    },
    "Organization": {
        "type": (
            "token",
            "prov or practice (practices), other or certifying-body (certifying bodies); SYSTEM|CODE too",
        ),
    },
}
INCLUDES = {
    "PractitionerRole": ("PractitionerRole:practitioner", "PractitionerRole:location", "PractitionerRole:organization"),
}
RESULT_PARAMETERS = {"_count", "_page", "_format", "_include"}
MAX_VALUE_LENGTH = 200


@dataclass
class Asked:
    """The checked request: paging, the parameters used (for the links) and the ones ignored."""

    args: MultiDict
    count: int
    page: int
    used: list[tuple[str, str]]
    warnings: list[dict]
    includes: set[str]


def _whole(args: MultiDict, name: str, low: int, high: int, default: int) -> int:
    """A whole-number paging parameter from low to high, given at most once; the default when blank."""
    values = args.getlist(name)
    if len(values) > 1:
        raise FhirError(400, f"{name} may be given only once")
    text = values[0].strip() if values else ""
    if not text:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", text, re.ASCII) or not low <= int(text) <= high:
        raise FhirError(400, f"{name} must be a whole number from {low} to {high}")
    return int(text)


def check(resource_type: str, args: MultiDict) -> Asked:
    """Paging, the known parameters and the ignored ones (reported as warnings)."""
    known = PARAMETERS[resource_type]
    used, warnings, includes = [], [], set()
    for name, value in args.items(multi=True):
        if len(value) > MAX_VALUE_LENGTH:
            raise FhirError(400, f"{name[:40]} is too long (at most {MAX_VALUE_LENGTH} characters)")
        if name == "_include":
            if value in INCLUDES.get(resource_type, ()):
                includes.add(value)
                used.append((name, value))
            else:
                warnings.append(
                    issue(f"_include={value[:60]} is not supported and was ignored.", "not-supported", "warning")
                )
        elif name in known:
            used.append((name, value))
        elif name not in RESULT_PARAMETERS:
            warnings.append(issue(f"Unknown search parameter {name[:60]!r} was ignored.", "not-supported", "warning"))
    count = _whole(args, "_count", 0, MAX_PER_PAGE, DEFAULT_PER_PAGE)
    page = _whole(args, "_page", 1, MAX_PAGE, 1)
    return Asked(args, count, page, used, warnings, includes)


def one(args: MultiDict, name: str) -> str | None:
    """A parameter given at most once; None when missing or blank."""
    values = args.getlist(name)
    if len(values) > 1:
        raise FhirError(400, f"{name} may be given only once")
    return values[0].strip() if values and values[0].strip() else None


def token(value: str) -> tuple[str | None, str]:
    """(system or None when not given, code) of a token: CODE, SYSTEM|CODE or |CODE (no system: "")."""
    if "|" in value:
        system, code = value.split("|", 1)
        return system.strip(), code.strip()
    return None, value.strip()


def specialty_slugs(args: MultiDict) -> list[str]:
    """The condition slugs the `specialty` parameters name (each must match: the site's search ANDs them)."""
    known = {c.slug for c in taxonomy()}
    slugs = []
    for value in args.getlist("specialty"):
        if "," in value:
            raise FhirError(400, "specialty: give one code per parameter (repeat specialty to need several)")
        system, code = token(value)
        if system in (None, codes.conditions_system()) and code in known:
            slugs.append(code)
        elif system in (None, codes.SNOMED) and codes.slugs_for_snomed(code):
            slugs.extend(s for s in codes.slugs_for_snomed(code) if s in known)
        else:
            raise FhirError(400, f"specialty: unknown condition {value[:60]!r}; see {codes.conditions_system()}")
    return list(dict.fromkeys(slugs))


def near_search_args(value: str, name: str, asked: Asked, slugs: list[str]):
    """The site's parsed search from LAT|LON|DIST|UNIT, with the site's own limits; (parsed, unit)."""
    parts = value.split("|")
    if not 2 <= len(parts) <= 4:
        raise FhirError(400, f"{name} must be {NEAR_HELP}")
    lat, lon, dist, unit = (parts + ["", ""])[:4]
    unit = {"": "km", "km": "km", "mi": "mi", "mi_i": "mi", "[mi_i]": "mi"}.get(unit.strip().lower())
    if unit is None:
        raise FhirError(400, f"{name}: the unit must be km or mi")
    query = MultiDict([("lat", lat), ("lon", lon), ("unit", unit), ("page", str(asked.page))])
    query.add("per_page", str(max(asked.count, 1)))
    if dist.strip():
        query.add("radius", dist)
    for slug in slugs:
        query.add("condition", slug)
    try:
        parsed = parse_search_args(query)
    except SearchError as error:
        raise FhirError(400, f"{name}: {error}") from None
    if parsed is None:
        raise FhirError(400, f"{name} needs a latitude and a longitude: {NEAR_HELP}")
    return parsed, unit
