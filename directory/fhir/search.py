"""FHIR search: each type's search, run through the site's one search, and the searchset Bundle.

`near` and `location.near` run through `search_practitioners`: the same practitioners in the
same order as the page and the JSON API, one entry for each (at their nearest location). Other
searches are plain filtered lists in id order. Paging is `_count` (0..100) and `_page`; the
links are absolute, from SITE_URL. The parameters and their checks live in `params`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy import exists, false, func, or_, select
from werkzeug.datastructures import MultiDict

from directory.extensions import db
from directory.fhir import codes, resources, store
from directory.fhir.outcome import FhirError, operation_outcome
from directory.fhir.params import Asked, check, near_search_args, one, specialty_slugs, token
from directory.models import CertifyingBody, PracticeLocation, Practitioner, ProfessionalLicense
from directory.search import KM_PER_MILE, great_circle_km, search_practitioners, taxonomy


@dataclass
class Found:
    """One page of a search: the matches (resource, entry.search extensions), what they include, the total."""

    matches: list[tuple[dict, list[dict]]] = field(default_factory=list)
    includes: list[dict] = field(default_factory=list)
    total: int | None = 0
    more: bool = False


def _distance(km: float, unit: str) -> list[dict]:
    """The location-distance extension of entry.search, in the unit asked."""
    value = km / KM_PER_MILE if unit == "mi" else km
    code = "[mi_i]" if unit == "mi" else "km"
    return [
        {
            "url": codes.LOCATION_DISTANCE,
            "valueDistance": {"value": round(value, 3), "unit": unit, "system": codes.UCUM, "code": code},
        }
    ]


def _near_search(parsed, unit: str, asked: Asked, build) -> Found:
    """The site's search, one entry per practitioner at their nearest location, nearest first."""
    result = search_practitioners(parsed.query)
    hits = result.hits if asked.count else []
    locations = store.locations_by_id([hit.location.id for hit in hits])
    found = Found(total=result.count if result.count_exact else None)
    found.matches = [
        (build(locations[hit.location.id]), _distance(hit.distance_km, unit))
        for hit in hits
        if hit.location.id in locations  # deleted since the search ran: left out
    ]
    # Past the count limit the total is unknown: a full page says there may be another.
    more = asked.page * asked.count < result.count if result.count_exact else len(hits) == asked.count
    found.more = bool(asked.count) and more
    return found


def _paged(statement, asked: Asked, order) -> tuple[list, int]:
    """A page of a plain filtered list, and how many there are."""
    total = db.session.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    if not asked.count:
        return [], total
    rows = db.session.execute(statement.order_by(*order).offset((asked.page - 1) * asked.count).limit(asked.count))
    return list(rows.unique().scalars()), total


def _finish(found: Found, asked: Asked, total: int) -> Found:
    """The page with its exact total, and whether another page follows."""
    found.total = total
    found.more = bool(asked.count) and asked.page * asked.count < total
    return found


def _mask(slugs: list[str]) -> int:
    """The search-index bit mask of these conditions."""
    mask = 0
    for condition in taxonomy():
        if condition.slug in slugs:
            mask |= condition.mask
    return mask


def _listed_locations(mask: int = 0):
    """The locations of listed practitioners (the index's copy of listed) with every condition of the mask."""
    loc = PracticeLocation
    statement = select(loc).where(loc.listed.is_(True)).options(*store.location_options())
    if mask:
        statement = statement.where(loc.condition_bits.op("&")(mask) == mask)
    return statement


def search_locations(asked: Asked) -> Found:
    """Location?near=... nearest first; without near, every listed location in id order."""
    near = one(asked.args, "near")
    if near:
        parsed, unit = near_search_args(near, "near", asked, [])
        return _near_search(parsed, unit, asked, resources.location_resource)
    rows, total = _paged(_listed_locations(), asked, [PracticeLocation.id])
    return _finish(Found(matches=[(resources.location_resource(loc), []) for loc in rows]), asked, total)


def _practitioner_id(value: str) -> int:
    """The id a `practitioner` parameter names (42 or Practitioner/42); 400 otherwise."""
    pid = store.database_id(value.strip().removeprefix("Practitioner/"))
    if pid is None:
        raise FhirError(400, "practitioner must be a practitioner's id, e.g. 42 or Practitioner/42")
    return pid


def search_roles(asked: Asked) -> Found:
    """PractitionerRole by location.near (the site's search), by practitioner, by specialty."""
    slugs = specialty_slugs(asked.args)
    near = one(asked.args, "location.near")
    practitioner = one(asked.args, "practitioner")
    if near and not practitioner:
        parsed, unit = near_search_args(near, "location.near", asked, slugs)
        found = _near_search(parsed, unit, asked, resources.role_resource)
    else:
        statement = _listed_locations(_mask(slugs))
        if practitioner:
            statement = statement.where(PracticeLocation.practitioner_id == _practitioner_id(practitioner))
        if near:
            # One practitioner's few locations: their distances are computed here, nearest first.
            parsed, unit = near_search_args(near, "location.near", asked, slugs)
            q = parsed.query
            placed = [
                (great_circle_km(q.latitude, q.longitude, loc.latitude, loc.longitude), loc.id, loc)
                for loc in db.session.execute(statement).unique().scalars()
            ]
            placed = sorted(p for p in placed if p[0] <= q.radius_km)
            start = (asked.page - 1) * asked.count
            shown = placed[start : start + asked.count]
            found = Found(matches=[(resources.role_resource(loc), _distance(km, unit)) for km, _, loc in shown])
            found = _finish(found, asked, len(placed))
        else:
            rows, total = _paged(statement, asked, [PracticeLocation.id])
            found = _finish(Found(matches=[(resources.role_resource(loc), []) for loc in rows]), asked, total)
    found.includes = _role_includes(found, asked.includes)
    return found


def _role_includes(found: Found, includes: set[str]) -> list[dict]:
    """The practitioners, locations and practices the page's roles point to, each once."""
    if not includes or not found.matches:
        return []
    ids = [int(role["location"][0]["reference"].split("/")[1]) for role, _ in found.matches]
    locations = store.locations_by_id(ids)
    included: dict[str, dict] = {}
    for lid in ids:
        location = locations[lid]
        if "PractitionerRole:practitioner" in includes:
            resource = resources.practitioner_resource(location.practitioner)
            included.setdefault(f"Practitioner/{resource['id']}", resource)
        if "PractitionerRole:location" in includes:
            included.setdefault(f"Location/{lid}", resources.location_resource(location))
        if "PractitionerRole:organization" in includes:
            resource = resources.practice_resource(location.practitioner)
            included.setdefault(f"Organization/{resource['id']}", resource)
    return list(included.values())


def _listed_practitioners():
    """Published, unsuspended practitioners with what their resources show."""
    return (
        select(Practitioner)
        .where(Practitioner.published.is_(True), Practitioner.suspended.is_(False))
        .options(*store.practitioner_options())
    )


def _identifier_clause(value: str):
    """One identifier token: the site's practitioner number or a licence number."""
    system, code = token(value)
    pid = store.database_id(code)
    by_id = Practitioner.id == pid if pid else false()
    by_licence = exists().where(
        ProfessionalLicense.practitioner_id == Practitioner.id, ProfessionalLicense.number == code
    )
    if system is None:
        return or_(by_id, by_licence) if code else false()
    if system == codes.site_system("sid/practitioner"):
        return by_id
    if system == codes.site_system("sid/licence"):
        return by_licence if code else exists().where(ProfessionalLicense.practitioner_id == Practitioner.id)
    return false()


def search_practitioners_by_name(asked: Asked) -> Found:
    """Practitioner?name=...&identifier=...: listed practitioners in id order."""
    statement = _listed_practitioners()
    for value in asked.args.getlist("name"):
        words = [w.strip().lower() for w in value.split(",") if w.strip()]
        if not words:
            raise FhirError(400, "name must not be empty")
        name = func.lower(Practitioner.display_name)
        statement = statement.where(
            or_(*(or_(name.startswith(w, autoescape=True), name.contains(" " + w, autoescape=True)) for w in words))
        )
    for value in asked.args.getlist("identifier"):
        parts = [part for part in value.split(",") if part.strip()]
        if not parts:
            raise FhirError(400, "identifier must not be empty")
        statement = statement.where(or_(*(_identifier_clause(part) for part in parts)))
    rows, total = _paged(statement, asked, [Practitioner.id])
    return _finish(Found(matches=[(resources.practitioner_resource(p), []) for p in rows]), asked, total)


ORGANIZATION_KINDS = ("practice", "certifying-body")


def _type_codes() -> dict[tuple[str, str], str]:
    """(system, code) of each Organization type coding -> the kind of organization it marks."""
    kind_system = codes.site_system("CodeSystem/organization-kind")
    return {
        (codes.ORGANIZATION_TYPE, "prov"): "practice",
        (codes.ORGANIZATION_TYPE, "other"): "certifying-body",
        (kind_system, "practice"): "practice",
        (kind_system, "certifying-body"): "certifying-body",
    }


def _kinds(value: str) -> set[str]:
    """The kinds of organization one `type` value selects (a comma separates alternatives)."""
    kinds = set()
    for part in value.split(","):
        system, code = token(part)
        if not code:
            raise FhirError(400, "type must be a code, e.g. prov or certifying-body")
        kinds |= {kind for (sys, c), kind in _type_codes().items() if c == code and system in (None, sys)}
    return kinds


def search_organizations(asked: Asked) -> Found:
    """Organization?type=...: certifying bodies first, then practices (in practitioner id order)."""
    kinds = set(ORGANIZATION_KINDS)
    for value in asked.args.getlist("type"):
        kinds &= _kinds(value)
    bodies = []
    if "certifying-body" in kinds:
        bodies = list(db.session.execute(select(CertifyingBody).order_by(CertifyingBody.slug)).scalars())
    practices = select(Practitioner).where(Practitioner.published.is_(True), Practitioner.suspended.is_(False))
    n_practices = 0
    if "practice" in kinds:
        n_practices = db.session.execute(select(func.count()).select_from(practices.subquery())).scalar_one()
    start = (asked.page - 1) * asked.count
    shown = [resources.body_resource(b) for b in bodies[start : start + asked.count]]
    room = asked.count - len(shown)
    if room and "practice" in kinds:
        offset = max(0, start - len(bodies))
        rows = db.session.execute(practices.order_by(Practitioner.id).offset(offset).limit(room)).scalars()
        shown += [resources.practice_resource(p) for p in rows]
    return _finish(Found(matches=[(r, []) for r in shown]), asked, len(bodies) + n_practices)


SEARCHES = {
    "Location": search_locations,
    "PractitionerRole": search_roles,
    "Practitioner": search_practitioners_by_name,
    "Organization": search_organizations,
}


def _link(resource_type: str, relation: str, asked: Asked, page: int) -> dict:
    """A Bundle link to a page of the same search (the parameters used, absolute, from SITE_URL)."""
    pairs = [*asked.used, ("_count", str(asked.count)), ("_page", str(page))]
    return {"relation": relation, "url": f"{codes.fhir_base()}/{resource_type}?{urlencode(pairs)}"}


def search_bundle(resource_type: str, args: MultiDict) -> dict:
    """The searchset Bundle of one search: matches, includes, an outcome of ignored parameters, links."""
    asked = check(resource_type, args)
    found = SEARCHES[resource_type](asked)
    base = codes.fhir_base()
    links = [_link(resource_type, "self", asked, asked.page)]
    if found.more:
        links.append(_link(resource_type, "next", asked, asked.page + 1))
    if asked.page > 1:
        links.append(_link(resource_type, "previous", asked, asked.page - 1))
    entries = []
    for resource, extensions in found.matches:
        search = {"mode": "match", **({"extension": extensions} if extensions else {})}
        entries.append(
            {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}", "resource": resource, "search": search}
        )
    for resource in found.includes:
        entries.append(
            {
                "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "include"},
            }
        )
    if asked.warnings:
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": operation_outcome(asked.warnings),
                "search": {"mode": "outcome"},
            }
        )
    bundle = {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "searchset"}
    if found.total is not None:
        bundle["total"] = found.total
    bundle["link"] = links
    if entries:
        bundle["entry"] = entries
    return bundle
