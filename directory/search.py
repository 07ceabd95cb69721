"""The one practitioner search behind both the HTML page and the JSON API.

On SQLite, candidates come from one covering composite B-tree index on practice
locations (listed, latitude, longitude, condition bits, practitioner): a bounding box
narrows them, and the great-circle distance is computed only for points outside the
circle's inscribed box. The count is answered from that index alone; the page's rows
come from a circle that starts small (sized from the count) and doubles up to the asked
radius, with distance, grouping per practitioner (nearest location), sort and LIMIT in
SQL. PostgreSQL narrows with a GiST ``earth_box`` instead. Only the practitioners on the
page become ORM objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, exists, func, literal, literal_column, or_, select

from directory.extensions import db
from directory.geocoding import Place, geocode
from directory.models import (
    Certification,
    CertifyingBody,
    Condition,
    PracticeLocation,
    Practitioner,
    VerificationStatus,
)
from directory.models.practitioners import practitioner_conditions

# geopy's great_circle uses the same mean Earth radius.
EARTH_RADIUS_KM = 6371.009
KM_PER_MILE = 1.609344
MAX_RADIUS_KM = 500.0
DEFAULT_RADIUS_KM = 50.0
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
# The search for the page's rows starts with this radius and doubles up to the asked one.
START_RADIUS_KM = 12.5
# earthdistance's earth() radius, in metres.
PG_EARTH_RADIUS_M = 6378168.0


class SearchError(ValueError):
    """Bad search input; the message says what is wrong and is safe to show."""


@dataclass
class SearchQuery:
    """A validated search: where, how far, and the filters."""

    latitude: float
    longitude: float
    radius_km: float = DEFAULT_RADIUS_KM
    conditions: list[Condition] = field(default_factory=list)
    verified_only: bool = False
    accepting_only: bool = False
    language: str = ""
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def condition_mask(self) -> int:
        """The bits every result's location must carry."""
        mask = 0
        for condition in self.conditions:
            mask |= condition.mask
        return mask


@dataclass
class SearchHit:
    """A practitioner on the page, with the distance to their nearest location."""

    practitioner: PractitionerView
    distance_km: float
    location: LocationView


@dataclass
class SearchResult:
    """One page of results and the total count."""

    query: SearchQuery
    count: int
    hits: list[SearchHit]

    @property
    def pages(self) -> int:
        """Number of pages."""
        return max(1, math.ceil(self.count / self.query.per_page))


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in km, the same formula the SQL uses."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _distance_sql(lat: float, lon: float):
    """Haversine distance in SQL from (lat, lon) to each location, in km.

    The argument of asin never exceeds 1 here: candidates are at most a few hundred
    km away, far from the antipode, so no clamp is needed.
    """
    loc = PracticeLocation.__table__.c
    half_radian = math.pi / 360  # degrees to radians, halved
    sin_half_dlat = func.sin((loc.latitude - lat) * half_radian)
    sin_half_dlon = func.sin((loc.longitude - lon) * half_radian)
    a = (
        sin_half_dlat * sin_half_dlat
        + literal(math.cos(math.radians(lat)))
        * func.cos(loc.latitude * (math.pi / 180))
        * sin_half_dlon
        * sin_half_dlon
    )
    return 2 * EARTH_RADIUS_KM * func.asin(func.sqrt(a))


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, list[tuple[float, float]]]:
    """Latitude range and longitude ranges that contain every point within radius_km.

    Handles the poles (the whole longitude circle) and the ±180° meridian (two ranges).
    """
    delta = math.degrees(radius_km / EARTH_RADIUS_KM)
    min_lat, max_lat = lat - delta, lat + delta
    if max_lat >= 90 or min_lat <= -90:
        return max(min_lat, -90.0), min(max_lat, 90.0), [(-180.0, 180.0)]
    dlon = math.degrees(math.asin(min(1.0, math.sin(math.radians(delta)) / math.cos(math.radians(lat)))))
    # A little slack against rounding at the edge of the box; the exact distance decides.
    dlon += 1e-9
    min_lon, max_lon = lon - dlon, lon + dlon
    if min_lon < -180:
        return min_lat, max_lat, [(min_lon + 360, 180.0), (-180.0, max_lon)]
    if max_lon > 180:
        return min_lat, max_lat, [(min_lon, 180.0), (-180.0, max_lon - 360)]
    return min_lat, max_lat, [(min_lon, max_lon)]


def _index_filter(lat: float, lon: float, radius_km: float):
    """The clause that lets the database's index narrow the candidates."""
    loc = PracticeLocation.__table__.c
    if db.session.get_bind().dialect.name == "postgresql":
        # GiST index on ll_to_earth(latitude, longitude) (see the migrations).
        # earth_box takes a distance on earth()'s larger sphere: scale, with slack.
        radius_m = radius_km * 1000 * PG_EARTH_RADIUS_M / (EARTH_RADIUS_KM * 1000) * 1.001
        # A box of at least a metre: earth_box underflows on subnormal radii (a 500 found by
        # schemathesis); the box is only a superset, the exact distance still decides.
        radius_m = max(radius_m, 1.0)
        return func.earth_box(func.ll_to_earth(lat, lon), radius_m).op("@>")(
            func.ll_to_earth(loc.latitude, loc.longitude)
        )
    min_lat, max_lat, lon_ranges = bounding_box(lat, lon, radius_km)
    return and_(
        loc.latitude.between(min_lat, max_lat),
        or_(*[loc.longitude.between(lo, hi) for lo, hi in lon_ranges]),
    )


def inner_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float] | None:
    """A latitude/longitude box wholly inside the circle (its points need no distance), or None.

    None near the poles and the ±180° meridian, where every candidate gets the exact distance.
    """
    delta = radius_km / EARTH_RADIUS_KM
    half_lat = math.degrees(delta) / math.sqrt(2)
    if abs(lat) + math.degrees(delta) > 80:
        return None
    target = math.sin(delta / 2) ** 2
    dlon = math.pi
    for corner in (lat - half_lat, lat + half_lat):
        rest = target - math.sin(math.radians(corner - lat) / 2) ** 2
        if rest <= 0:  # a radius too small for floating point: compute every distance
            return None
        scale = math.cos(math.radians(lat)) * math.cos(math.radians(corner))
        dlon = min(dlon, 2 * math.asin(min(1.0, math.sqrt(rest / scale))))
    # Shrink a little: rounding must never put a point of the box outside the circle.
    half_lat, dlon = half_lat * 0.999, math.degrees(dlon) * 0.999
    if lon - dlon < -180 or lon + dlon > 180:
        return None
    return lat - half_lat, lat + half_lat, lon - dlon, lon + dlon


def _within(query: SearchQuery, radius_km: float, distance) -> list:
    """WHERE clauses: listed locations within radius_km carrying the asked condition bits.

    Everything here is answered from the covering index on practice_locations; the
    exact distance is computed only for points outside the circle's inscribed box.
    """
    loc = PracticeLocation.__table__.c
    where = [loc.listed.is_(True), _index_filter(query.latitude, query.longitude, radius_km)]
    box = inner_box(query.latitude, query.longitude, radius_km)
    if box is None:
        where.append(distance <= radius_km)
    else:
        min_lat, max_lat, min_lon, max_lon = box
        inside = and_(loc.latitude.between(min_lat, max_lat), loc.longitude.between(min_lon, max_lon))
        where.append(or_(inside, distance <= radius_km))
    mask = query.condition_mask
    if mask:
        where.append(loc.condition_bits.op("&")(mask) == mask)
    return where


def _practitioner_filters(query: SearchQuery) -> list:
    """Filters on the practitioner (accepting, language, verified); empty for most searches."""
    prac = Practitioner.__table__.c
    filters = []
    if query.accepting_only:
        filters.append(prac.accepting_new_patients.is_(True))
    if query.language:
        pattern = "%" + query.language.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        filters.append(func.lower(prac.languages).like(pattern, escape="\\"))
    if query.verified_only:
        filters.append(exists().where(Certification.practitioner_id == prac.id, Certification.is_currently_verified))
    return filters


def _count(query: SearchQuery) -> int:
    """How many practitioners have a location within the radius (each counted once)."""
    loc = PracticeLocation.__table__.c
    distance = _distance_sql(query.latitude, query.longitude)
    stmt = select(func.count(loc.practitioner_id.distinct())).where(*_within(query, query.radius_km, distance))
    filters = _practitioner_filters(query)
    if filters:
        prac = Practitioner.__table__.c
        stmt = stmt.join_from(PracticeLocation.__table__, Practitioner.__table__, prac.id == loc.practitioner_id).where(
            *filters
        )
    return db.session.execute(stmt).scalar_one()


def _nearest(query: SearchQuery, radius_km: float, limit: int):
    """The `limit` nearest practitioners within radius_km: (pid, distance), nearest first."""
    loc = PracticeLocation.__table__.c
    distance = _distance_sql(query.latitude, query.longitude)
    where = [_index_filter(query.latitude, query.longitude, radius_km), loc.listed.is_(True), distance <= radius_km]
    mask = query.condition_mask
    if mask:
        where.append(loc.condition_bits.op("&")(mask) == mask)
    stmt = select(loc.practitioner_id.label("pid"), func.min(distance).label("distance")).where(*where)
    filters = _practitioner_filters(query)
    if filters:
        prac = Practitioner.__table__.c
        stmt = stmt.join_from(PracticeLocation.__table__, Practitioner.__table__, prac.id == loc.practitioner_id).where(
            *filters
        )
    stmt = stmt.group_by(loc.practitioner_id).order_by(literal_column("distance"), loc.practitioner_id).limit(limit)
    return db.session.execute(stmt).all()


def search_practitioners(query: SearchQuery) -> SearchResult:
    """Practitioners within the radius, nearest first, one page of them."""
    count = _count(query)
    offset = (query.page - 1) * query.per_page
    rows: list = []
    if offset < count:
        wanted = offset + query.per_page
        # Start with the circle expected to hold about three pages' worth (the count tells
        # the density), then double. The nearest `wanted` inside a smaller circle are the
        # nearest overall once that circle holds at least `wanted` practitioners.
        radius = query.radius_km * min(1.0, math.sqrt(3 * wanted / count))
        radius = max(radius, min(START_RADIUS_KM / 4, query.radius_km))
        while True:
            rows = _nearest(query, radius, wanted)
            if len(rows) >= wanted or radius >= query.radius_km:
                break
            radius = min(radius * 2, query.radius_km)
        rows = rows[offset:]
    return SearchResult(query=query, count=count, hits=_load_hits(query, rows))


@dataclass(frozen=True)
class BodyView:
    """The certifying body of a credential shown in a result."""

    slug: str
    name: str


@dataclass(frozen=True)
class CertificationView:
    """A credential shown in a result; `is_currently_verified` comes from the model's SQL rule."""

    body: BodyView
    credential: str
    status: VerificationStatus
    verified_at: datetime | None
    expires_on: date | None
    is_currently_verified: bool
    is_expired: bool


@dataclass(frozen=True)
class LocationView:
    """The practice location nearest to the searched point."""

    id: int
    city: str
    region: str
    country: str
    latitude: float
    longitude: float


@dataclass
class PractitionerView:
    """What a search result shows of a practitioner: read-only, built from plain rows."""

    id: int
    display_name: str
    practice_name: str
    accepting_new_patients: bool
    conditions: list[Condition] = field(default_factory=list)
    certifications: list[CertificationView] = field(default_factory=list)


def _load_hits(query: SearchQuery, rows) -> list[SearchHit]:
    """Load what the shown rows display, with plain queries: no ORM objects per candidate.

    Four small queries by primary or foreign key, whatever the page size; building ORM
    objects with their relationships here cost more than the whole search.
    """
    if not rows:
        return []
    ids = [row.pid for row in rows]
    prac, loc, cert = Practitioner.__table__.c, PracticeLocation.__table__.c, Certification.__table__
    views = {
        r.id: PractitionerView(r.id, r.display_name, r.practice_name, r.accepting_new_patients)
        for r in db.session.execute(
            select(prac.id, prac.display_name, prac.practice_name, prac.accepting_new_patients).where(prac.id.in_(ids))
        )
    }
    nearest: dict[int, tuple[float, LocationView]] = {}
    for r in db.session.execute(
        select(loc.id, loc.practitioner_id, loc.city, loc.region, loc.country, loc.latitude, loc.longitude).where(
            loc.practitioner_id.in_(ids)
        )
    ):
        km = great_circle_km(query.latitude, query.longitude, r.latitude, r.longitude)
        if r.practitioner_id not in nearest or km < nearest[r.practitioner_id][0]:
            nearest[r.practitioner_id] = (km, LocationView(r.id, r.city, r.region, r.country, r.latitude, r.longitude))
    conditions = {c.id: c for c in _all_conditions()}
    for r in db.session.execute(
        select(practitioner_conditions.c.practitioner_id, practitioner_conditions.c.condition_id).where(
            practitioner_conditions.c.practitioner_id.in_(ids)
        )
    ):
        views[r.practitioner_id].conditions.append(conditions[r.condition_id])
    for view in views.values():
        view.conditions.sort(key=lambda c: (c.sort_order, c.name))
    body = CertifyingBody.__table__.c
    for r in db.session.execute(
        select(
            cert.c.practitioner_id,
            body.slug,
            body.name,
            cert.c.credential,
            cert.c.status,
            cert.c.verified_at,
            cert.c.expires_on,
            Certification.is_currently_verified.label("current"),
            Certification.is_expired.label("expired"),
        )
        .join_from(cert, CertifyingBody.__table__, body.id == cert.c.body_id)
        .where(cert.c.practitioner_id.in_(ids))
        .order_by(cert.c.id)
    ):
        views[r.practitioner_id].certifications.append(
            CertificationView(
                BodyView(r.slug, r.name),
                r.credential,
                VerificationStatus(r.status),
                r.verified_at,
                r.expires_on,
                bool(r.current),
                bool(r.expired),
            )
        )
    return [
        SearchHit(practitioner=views[row.pid], distance_km=float(row.distance), location=nearest[row.pid][1])
        for row in rows
    ]


def _all_conditions() -> list[Condition]:
    """The taxonomy (a handful of rows), from the session's identity map after the first load."""
    return db.session.execute(select(Condition)).scalars().all()


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def _flag(args, name: str) -> bool:
    """A yes/no parameter: 1/0, true/false, yes/no, on/off, or empty; anything else is an error."""
    value = (args.get(name) or "").lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise SearchError(f"{name} must be 1 or 0")


def _number(args, name: str, default: float | None = None) -> float | None:
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SearchError(f"{name} must be a number") from None
    if not math.isfinite(value):
        raise SearchError(f"{name} must be a finite number")
    return value


def _integer(args, name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SearchError(f"{name} must be a whole number") from None


@dataclass
class ParsedSearch:
    """A search parsed from a query string, with the place it was centred on."""

    query: SearchQuery
    place: Place
    unit: str
    radius: float


SINGLE_VALUED = (
    "lat",
    "lon",
    "near",
    "radius",
    "radius_km",
    "unit",
    "verified",
    "accepting",
    "language",
    "page",
    "per_page",
)


def parse_search_args(args) -> ParsedSearch | None:
    """Validate search parameters (a query-string mapping); None when no location was given.

    Accepts ``lat``+``lon`` or ``near``; ``radius_km``, or ``radius`` with ``unit`` (km|mi);
    ``condition`` (repeatable slug); ``verified``, ``accepting`` (1/0); ``language``;
    ``page`` (from 1) and ``per_page`` (at most 100). Raises SearchError on bad input.
    """
    if hasattr(args, "getlist"):
        for name in SINGLE_VALUED:
            if len(args.getlist(name)) > 1:
                raise SearchError(f"{name} may be given only once")
    unit = (args.get("unit") or "km").strip().lower()
    if unit not in {"km", "mi"}:
        raise SearchError("unit must be km or mi")
    lat = _number(args, "lat")
    lon = _number(args, "lon")
    near = (args.get("near") or "").strip()
    if (lat is None) != (lon is None):
        raise SearchError("lat and lon must be given together")
    if lat is not None:
        if not -90 <= lat <= 90:
            raise SearchError("lat must be between -90 and 90")
        if not -180 <= lon <= 180:
            raise SearchError("lon must be between -180 and 180")
        place = Place(near or f"{lat:.4f}, {lon:.4f}", lat, lon)
    elif near:
        if len(near) > 200:
            raise SearchError("near is too long (at most 200 characters)")
        place = geocode(near)
        if place is None:
            raise SearchError(f"We could not find the place {near!r}. Try a ZIP code, a town, or 'town, country'.")
    else:
        place = None
    radius_km = _number(args, "radius_km")
    if radius_km is not None:
        radius = radius_km
        unit = "km" if args.get("unit") is None else unit
    else:
        radius = _number(args, "radius", DEFAULT_RADIUS_KM if unit == "km" else round(DEFAULT_RADIUS_KM / KM_PER_MILE))
        radius_km = radius * (KM_PER_MILE if unit == "mi" else 1)
    if radius <= 0:
        raise SearchError("radius must be greater than 0")
    if radius_km > MAX_RADIUS_KM + 1e-9:
        raise SearchError(f"radius must be at most {MAX_RADIUS_KM:g} km ({MAX_RADIUS_KM / KM_PER_MILE:.0f} mi)")
    slugs = [s.strip() for s in args.getlist("condition") if s.strip()] if hasattr(args, "getlist") else []
    conditions = []
    if slugs:
        found = {c.slug: c for c in db.session.execute(select(Condition).where(Condition.slug.in_(slugs))).scalars()}
        unknown = [s for s in slugs if s not in found]
        if unknown:
            raise SearchError(f"unknown condition: {', '.join(unknown[:5])}"[:300])
        conditions = [found[s] for s in dict.fromkeys(slugs)]
    page = _integer(args, "page", 1)
    if page < 1:
        raise SearchError("page must be 1 or more")
    per_page = _integer(args, "per_page", DEFAULT_PER_PAGE)
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise SearchError(f"per_page must be between 1 and {MAX_PER_PAGE}")
    if page > 10_000:
        raise SearchError("page is too large")
    language = (args.get("language") or "").strip()
    if len(language) > 40:
        raise SearchError("language is too long")
    verified = _flag(args, "verified")
    accepting = _flag(args, "accepting")
    if place is None:
        return None
    query = SearchQuery(
        latitude=place.latitude,
        longitude=place.longitude,
        radius_km=radius_km,
        conditions=conditions,
        verified_only=verified,
        accepting_only=accepting,
        language=language,
        page=page,
        per_page=per_page,
    )
    return ParsedSearch(query=query, place=place, unit=unit, radius=radius)
