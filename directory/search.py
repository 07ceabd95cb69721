"""The one practitioner search behind both the HTML page and the JSON API.

Candidates come from one covering composite B-tree index on practice locations (listed,
latitude band, longitude, latitude, condition bits, practitioner, accepting, verified
until, languages), on SQLite and PostgreSQL alike: a circle's bounding box is one short
longitude range in each 0.1° band it spans, every filter is answered from the index, and
the great-circle distance is computed in SQL. The count stops at SEARCH_COUNT_LIMIT (a
city's tens of thousands cost more to count than they tell a patient). The page's rows come
from a circle just big enough to hold them, found from the density and checked with bounded
counts, with distance, grouping per practitioner (nearest location), sort and LIMIT in SQL.
Each step is one statement built once and run with bound parameters; results are plain
rows, never ORM objects.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app, g, has_request_context
from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    Integer,
    String,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
)

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
from directory.models.base import today
from directory.models.practitioners import band_of

# geopy's great_circle uses the same mean Earth radius.
EARTH_RADIUS_KM = 6371.009
KM_PER_MILE = 1.609344
MAX_RADIUS_KM = 500.0
DEFAULT_RADIUS_KM = 50.0
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
# On PostgreSQL a count reads at most this many locations per practitioner it may report.
ROWS_PER_PRACTITIONER = 3
# Counting stops past this many practitioners ("more than 1,000"); SEARCH_COUNT_LIMIT overrides.
DEFAULT_COUNT_LIMIT = 1000


class SearchError(ValueError):
    """Bad search input; the message says what is wrong and is safe to show."""


@dataclass
class SearchQuery:
    """A validated search: where, how far, and the filters."""

    latitude: float
    longitude: float
    radius_km: float = DEFAULT_RADIUS_KM
    conditions: list[ConditionView] = field(default_factory=list)
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
    """One page of results and the total count (a lower bound when count_exact is false)."""

    query: SearchQuery
    count: int
    hits: list[SearchHit]
    count_exact: bool = True

    @property
    def pages(self) -> int:
        """Number of pages."""
        return max(1, math.ceil(self.count / self.query.per_page))


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in km, the same formula the SQL uses."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


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


# An empty box (its low ends above its high ends): no point is in it.
NO_BOX = (1.0, 0.0, 1.0, 0.0)


def _distance_sql():
    """Haversine distance in SQL from (:lat, :lon) to each location, in km (:cos_lat is cos(lat)).

    The argument of asin never exceeds 1 here: candidates are at most a few hundred
    km away, far from the antipode, so no clamp is needed.
    """
    loc = PracticeLocation.__table__.c
    half_radian = math.pi / 360  # degrees to radians, halved
    sin_half_dlat = func.sin((loc.latitude - bindparam("lat", type_=Float)) * half_radian)
    sin_half_dlon = func.sin((loc.longitude - bindparam("lon", type_=Float)) * half_radian)
    a = (
        sin_half_dlat * sin_half_dlat
        + bindparam("cos_lat", type_=Float) * func.cos(loc.latitude * (math.pi / 180)) * sin_half_dlon * sin_half_dlon
    )
    return 2 * EARTH_RADIUS_KM * func.asin(func.sqrt(a))


@functools.cache
def _statement(kind: str, dialect: str, antimeridian: bool, filters: tuple[str, ...]):
    """The SQL of one kind of search step, built once per shape and run with bound parameters.

    kind "count": how many practitioners are within :radius, counting no further than :cap + 1.
    SQLite streams DISTINCT, so it stops once it has seen :cap + 1 practitioners; PostgreSQL
    sorts or hashes the whole input of a DISTINCT, so there the count reads at most
    ROWS_PER_PRACTITIONER locations per practitioner it may report (and says whether it did).
    kind "page": the :limit nearest practitioners within :radius, (pid, distance), nearest first.
    Every candidate and every filter comes from the covering index (listed, band, longitude,
    latitude, condition bits, practitioner, accepting, verified until, languages), on SQLite
    and PostgreSQL alike: one longitude range in each 0.1° latitude band of the circle's
    bounding box. A count needs no distance for the points in the circle's inscribed box.
    """
    loc = PracticeLocation.__table__.c
    distance = _distance_sql()
    within = distance <= bindparam("radius", type_=Float)
    if kind == "count":
        inside = and_(
            loc.latitude.between(bindparam("in_lat_lo", type_=Float), bindparam("in_lat_hi", type_=Float)),
            loc.longitude.between(bindparam("in_lon_lo", type_=Float), bindparam("in_lon_hi", type_=Float)),
        )
        within = or_(inside, within)
    longitude = loc.longitude.between(bindparam("lon_lo", type_=Float), bindparam("lon_hi", type_=Float))
    if antimeridian:
        longitude = or_(
            longitude, loc.longitude.between(bindparam("lon_lo2", type_=Float), bindparam("lon_hi2", type_=Float))
        )
    mask = bindparam("mask", type_=BigInteger)
    where = [
        loc.listed.is_(True),
        loc.band.in_(bindparam("bands", expanding=True)),
        longitude,
        loc.latitude.between(bindparam("lat_lo", type_=Float), bindparam("lat_hi", type_=Float)),
        loc.condition_bits.op("&")(mask) == mask,
        within,
    ]
    if kind == "count":
        stmt = select(loc.practitioner_id)
    else:
        stmt = select(loc.practitioner_id.label("pid"), func.min(distance).label("distance"))
    stmt = stmt.where(*where)
    if "accepting" in filters:
        stmt = stmt.where(loc.accepting.is_(True))
    if "verified" in filters:
        stmt = stmt.where(loc.verified_until >= bindparam("today", type_=Date))
    if "language" in filters:
        stmt = stmt.where(loc.languages.like(bindparam("language", type_=String), escape="\\"))
    cap = bindparam("cap", type_=Integer)
    if kind == "count" and dialect == "postgresql":
        rows = stmt.limit(cap * ROWS_PER_PRACTITIONER).subquery()
        return select(func.count(rows.c.practitioner_id.distinct()), func.count() >= cap * ROWS_PER_PRACTITIONER)
    if kind == "count":
        return select(func.count(), func.count() > cap).select_from(stmt.distinct().limit(cap + 1).subquery())
    return (
        stmt.group_by(loc.practitioner_id)
        .order_by(literal_column("distance"), loc.practitioner_id)
        .limit(bindparam("limit", type_=Integer))
    )


class _Search:
    """One search's SQL steps: the statement shapes and the parameters for a radius."""

    def __init__(self, query: SearchQuery) -> None:
        self.query = query
        self.dialect = db.session.get_bind().dialect.name
        filters = []
        self.base = {
            "lat": query.latitude,
            "lon": query.longitude,
            "cos_lat": math.cos(math.radians(query.latitude)),
            "mask": query.condition_mask,
        }
        if query.accepting_only:
            filters.append("accepting")
        if query.language:
            filters.append("language")
            escaped = query.language.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            self.base["language"] = f"%{escaped}%"
        if query.verified_only:
            filters.append("verified")
            self.base["today"] = today()
        self.filters = tuple(filters)

    def _run(self, kind: str, radius_km: float, **extra):
        lat, lon = self.query.latitude, self.query.longitude
        min_lat, max_lat, lon_ranges = bounding_box(lat, lon, radius_km)
        params = dict(
            self.base,
            radius=radius_km,
            bands=list(range(band_of(min_lat), band_of(max_lat) + 1)),
            lat_lo=min_lat,
            lat_hi=max_lat,
            lon_lo=lon_ranges[0][0],
            lon_hi=lon_ranges[0][1],
            **extra,
        )
        if len(lon_ranges) > 1:
            params.update(lon_lo2=lon_ranges[1][0], lon_hi2=lon_ranges[1][1])
        if kind == "count":
            box = inner_box(lat, lon, radius_km) or NO_BOX
            params.update(in_lat_lo=box[0], in_lat_hi=box[1], in_lon_lo=box[2], in_lon_hi=box[3])
        return db.session.execute(_statement(kind, self.dialect, len(lon_ranges) > 1, self.filters), params)

    def count(self, radius_km: float, cap: int) -> tuple[int, bool]:
        """(practitioners within radius_km, whether that is all of them), counting little past cap.

        When it is not all of them, the number is a lower bound (at least cap, unless many
        practitioners have several locations in the circle).
        """
        count, more = self._run("count", radius_km, cap=cap).one()
        return count, not more

    def nearest(self, radius_km: float, limit: int) -> list:
        """The `limit` nearest practitioners within radius_km: (pid, distance), nearest first."""
        return self._run("page", radius_km, limit=limit).all()


def count_limit() -> int:
    """Counting stops here: past it a search says "more than" (SEARCH_COUNT_LIMIT, default 1,000)."""
    limit = current_app.config.get("SEARCH_COUNT_LIMIT", DEFAULT_COUNT_LIMIT) if current_app else DEFAULT_COUNT_LIMIT
    return max(1, int(limit))


def _page_radius(search: _Search, wanted: int, count: int, exact: bool) -> float:
    """A radius whose circle holds at least `wanted` practitioners but not many more.

    The nearest `wanted` inside such a circle are the nearest overall, and finding them there
    costs little. In a crowded city the asked circle holds tens of thousands: it shrinks by the
    density (count over area) until a bounded count, which costs little too, says the circle
    holds a cheap page's worth. Falls back to the smallest circle known to hold `wanted`.
    """
    radius = search.query.radius_km
    # Sorting this many costs little; counts here stop past it (they tell "too many" from
    # "enough", and the density).
    enough = max(4 * wanted, 100)
    if not exact and enough > count_limit():
        count, exact = search.count(radius, enough)
    if exact and count <= enough:
        return radius
    high, n_high = radius, count  # high holds at least n_high practitioners
    for _ in range(8):
        r = high * min(0.5, math.sqrt(2 * wanted / max(n_high, 1)))
        n, exact = search.count(r, enough)
        if n >= wanted:
            if exact and n <= enough:
                return r
            high, n_high = r, n
            continue
        if not exact:  # many locations, few practitioners: keep to what is known
            break
        # The crowd thins out here: one guess between r and high from r's density.
        r = min(r * math.sqrt(2 * wanted / max(n, 1)), high * 0.8)
        return r if search.count(r, enough)[0] >= wanted else high
    return high


def search_practitioners(query: SearchQuery) -> SearchResult:
    """Practitioners within the radius, nearest first, one page of them."""
    search = _Search(query)
    limit = count_limit()
    count, exact = search.count(query.radius_km, limit)
    if count > limit:
        count, exact = limit, False
    offset = (query.page - 1) * query.per_page
    rows: list = []
    if offset < count or not exact:
        wanted = offset + query.per_page
        rows = search.nearest(_page_radius(search, wanted, count, exact), wanted)[offset:]
    return SearchResult(query=query, count=count, hits=_load_hits(query, rows), count_exact=exact)


@dataclass(frozen=True)
class ConditionView:
    """A condition of the taxonomy, as a search uses and shows it."""

    id: int
    slug: str
    name: str
    bit: int
    sort_order: int

    @property
    def mask(self) -> int:
        """The bit mask of this condition in the search index."""
        return 1 << self.bit


def taxonomy() -> list[ConditionView]:
    """The condition taxonomy in display order, read once per request."""
    cached = g.get("_search_taxonomy") if has_request_context() else None
    if cached is None:
        c = Condition.__table__.c
        cached = [
            ConditionView(*row)
            for row in db.session.execute(
                select(c.id, c.slug, c.name, c.bit, c.sort_order).order_by(c.sort_order, c.name)
            )
        ]
        if has_request_context():
            g._search_taxonomy = cached
    return cached


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
    conditions: list[ConditionView] = field(default_factory=list)
    certifications: list[CertificationView] = field(default_factory=list)


@functools.cache
def _hit_statements():
    """The two queries that load what a page of results shows, built once."""
    prac, loc = Practitioner.__table__.c, PracticeLocation.__table__.c
    cert, body = Certification.__table__, CertifyingBody.__table__.c
    ids = bindparam("ids", expanding=True)
    practitioners = select(
        prac.id,
        prac.display_name,
        prac.practice_name,
        prac.accepting_new_patients,
        loc.condition_bits,
        loc.id.label("location_id"),
        loc.city,
        loc.region,
        loc.country,
        loc.latitude,
        loc.longitude,
    ).join_from(Practitioner.__table__, PracticeLocation.__table__, loc.practitioner_id == prac.id)
    certifications = (
        select(
            cert.c.practitioner_id,
            body.slug,
            body.name,
            cert.c.credential,
            cert.c.status,
            cert.c.verified_at,
            cert.c.expires_on,
            # The model's rules, with today bound at each run (the statement outlives a day).
            Certification.verified_on(bindparam("today", type_=Date)).label("current"),
            Certification.expired_on(bindparam("today", type_=Date)).label("expired"),
        )
        .join_from(cert, CertifyingBody.__table__, body.id == cert.c.body_id)
        .where(cert.c.practitioner_id.in_(ids))
        .order_by(cert.c.id)
    )
    return practitioners.where(prac.id.in_(ids)), certifications


def _load_hits(query: SearchQuery, rows) -> list[SearchHit]:
    """Load what the shown rows display with two plain queries: no ORM objects per candidate.

    The conditions come from the locations' condition bits (kept equal to the practitioner's
    conditions by the flush hook), the nearest location is picked here with the SQL's formula.
    """
    if not rows:
        return []
    ids = [row.pid for row in rows]
    practitioners_sql, certifications_sql = _hit_statements()
    conditions = taxonomy()
    views: dict[int, PractitionerView] = {}
    nearest: dict[int, tuple[float, LocationView]] = {}
    for r in db.session.execute(practitioners_sql, {"ids": ids}):
        if r.id not in views:
            views[r.id] = PractitionerView(
                r.id,
                r.display_name,
                r.practice_name,
                r.accepting_new_patients,
                [c for c in conditions if r.condition_bits & c.mask],
            )
        km = great_circle_km(query.latitude, query.longitude, r.latitude, r.longitude)
        if r.id not in nearest or km < nearest[r.id][0]:
            nearest[r.id] = (km, LocationView(r.location_id, r.city, r.region, r.country, r.latitude, r.longitude))
    for r in db.session.execute(certifications_sql, {"ids": ids, "today": today()}):
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


# A UK postcode, whole or its outward half ("SW1A 1AA", "M1"): the offline gazetteer has none.
UK_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?(\s*[0-9][A-Z]{2})?")

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
            if UK_POSTCODE.fullmatch(near.upper()):
                raise SearchError(
                    f"We could not find the place {near!r}: UK postcodes are not in our place list yet. "
                    "Try the town instead, for example 'Bristol, UK'."
                )
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
        found = {c.slug: c for c in taxonomy()}
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
