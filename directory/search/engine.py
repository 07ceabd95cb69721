"""The SQL of the search and the steps that run it.

Candidates come from one covering composite B-tree index on practice locations (listed,
latitude band, longitude, latitude, condition bits, practitioner, and the copies of what the
other filters and sorts read), on SQLite and PostgreSQL alike: a circle's bounding box is one
short longitude range in each 0.1° band it spans, every filter is answered from the index, and
the great-circle distance is computed in SQL. The count stops at SEARCH_COUNT_LIMIT (a
city's tens of thousands cost more to count than they tell a patient). Nearest first, the
page's rows come from a circle just big enough to hold them, found from the density and
checked with bounded counts, with distance, grouping per practitioner (nearest location),
sort and LIMIT in SQL. Sorted by name or by verification, on SQLite a circle whose count
stopped at the limit is walked in a second index in that order (by name; by verification
day), from the first entry until the page's practitioners are found; any other circle (and
every circle on PostgreSQL, see WALK_DIALECTS) is ranked whole with a bounded top-N sort of
its locations. Each step is one statement built once and run with
bound parameters; results are plain rows, never ORM objects.
"""

from __future__ import annotations

import functools
import math

from flask import current_app
from sqlalchemy import (
    Alias,
    BigInteger,
    Date,
    Float,
    Integer,
    String,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles

from directory.extensions import db
from directory.languages import index_pattern
from directory.models import PracticeLocation
from directory.models.base import today
from directory.models.practitioners import DETAILS_STALE_AFTER
from directory.search.geometry import EARTH_RADIUS_KM, NO_BOX, bounding_box, inner_box, latitude_bands
from directory.search.params import SearchQuery
from directory.search.results import SearchResult, load_hits

# On PostgreSQL a count reads at most this many locations per practitioner it may report.
ROWS_PER_PRACTITIONER = 3
# Counting stops past this many practitioners ("more than 1,000"); SEARCH_COUNT_LIMIT overrides.
DEFAULT_COUNT_LIMIT = 1000


def _distance_sql(loc):
    """Haversine distance in SQL from (:lat, :lon) to each location `loc`, in km (:cos_lat is cos(lat)).

    The argument of asin never exceeds 1 here: candidates are at most a few hundred
    km away, far from the antipode, so no clamp is needed.
    """
    half_radian = math.pi / 360  # degrees to radians, halved
    sin_half_dlat = func.sin((loc.latitude - bindparam("lat", type_=Float)) * half_radian)
    sin_half_dlon = func.sin((loc.longitude - bindparam("lon", type_=Float)) * half_radian)
    a = (
        sin_half_dlat * sin_half_dlat
        + bindparam("cos_lat", type_=Float) * func.cos(loc.latitude * (math.pi / 180)) * sin_half_dlon * sin_half_dlon
    )
    return 2 * EARTH_RADIUS_KM * func.asin(func.sqrt(a))


class _IndexedBy(Alias):
    """The locations table read through one named index: SQLite is told so (INDEXED BY).

    Each statement's index is chosen by the search from what the count tells (see
    search_practitioners), not by SQLite's planner: an ordered walk must read its index in
    its order and stop early, where the planner, seeing a circle's box, could prefer the search
    index and sort the whole circle; and a ranking must read the circle's bands, where the
    planner, seeing ORDER BY sort_name, could prefer to walk the whole name index. PostgreSQL
    is left to its planner, which does not walk (see WALK_DIALECTS).
    """

    inherit_cache = True
    index = ""

    @classmethod
    def of(cls, table):
        """The table under its own name, read through this class's index."""
        return cls._construct(table, name=table.name)


class _BySearch(_IndexedBy):
    inherit_cache = True
    index = "ix_practice_locations_search"


class _ByName(_IndexedBy):
    inherit_cache = True
    index = "ix_practice_locations_by_name"


class _ByVerified(_IndexedBy):
    inherit_cache = True
    index = "ix_practice_locations_by_verified"


@compiles(_IndexedBy, "sqlite")
def _indexed_by_sqlite(element, compiler, **kw) -> str:
    text = compiler.visit_alias(element, **kw)
    return f"{text} INDEXED BY {element.index}" if kw.get("asfrom") else text


# The order sort=verified gives (see _statement): the lexicographic groups of these two rules,
# each by its latest verification day. Both compare a copy in the index with a date bound per run.
def _current(loc):
    """Currently verified: a verification that counts today."""
    return loc.verified_until >= bindparam("today", type_=Date)


def _confirmed(loc):
    """Details confirmed within 15 months (feedback.service.STALE_AFTER): the others sort after."""
    return loc.confirmed_on >= bindparam("stale_before", type_=Date)


def _where(loc, distance, kind: str, antimeridian: bool, filters: tuple[str, ...]) -> list:
    """The WHERE of every search statement: listed, within `distance`, and every filter asked for.

    Statements that read the search index ("count", "page", "ranked") also name the latitude
    bands of the circle's bounding box (the index's second column); an ordered "walk" reads
    another index, in which the latitude range alone bounds the box. All but "page" accept the
    points of the circle's inscribed box without computing their distance.
    """
    within = distance <= bindparam("radius", type_=Float)
    if kind != "page":
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
    where = [loc.listed.is_(True)]
    if kind != "walk":
        where.append(loc.band.in_(bindparam("bands", expanding=True)))
    where += [
        longitude,
        loc.latitude.between(bindparam("lat_lo", type_=Float), bindparam("lat_hi", type_=Float)),
        loc.condition_bits.op("&")(mask) == mask,
        within,
    ]
    if "accepting" in filters:
        where.append(loc.accepting.is_(True))
    if "verified" in filters:
        where.append(_current(loc))
    if "language" in filters:
        # Language subtags hold only letters: the pattern needs no escaping.
        where.append(loc.languages.like(bindparam("language", type_=String)))
    if "fee" in filters:
        where.append(loc.fee_from <= bindparam("fee_max", type_=Integer))
    if "session" in filters:
        where.append(loc.session_minutes >= bindparam("session_minutes", type_=Integer))
    if "wheelchair" in filters:
        where.append(loc.wheelchair.is_(True))
    if "gender" in filters:
        where.append(loc.gender == bindparam("gender", type_=String))
    if "first_verified" in filters:
        # sort=verified's first group with a verification day: see _Search.walk.
        where += [_current(loc), _confirmed(loc), loc.verified_on.is_not(None)]
    return where


@functools.cache
def _statement(kind: str, dialect: str, antimeridian: bool, filters: tuple[str, ...], sort: str = "distance"):
    """The SQL of one kind of search step, built once per shape and run with bound parameters.

    kind "count": how many practitioners are within :radius, counting no further than :cap + 1.
    SQLite streams DISTINCT, so it stops once it has seen :cap + 1 practitioners; PostgreSQL
    sorts or hashes the whole input of a DISTINCT, so there the count reads at most
    ROWS_PER_PRACTITIONER locations per practitioner it may report (and says whether it did).
    kind "page": the :limit nearest practitioners within :radius, (pid, distance), nearest first.
    kind "ranked": the first :rows locations within :radius in the order of `sort`, (pid,
    distance): by name (the index's lower-cased copy), or verified (currently verified first,
    then details confirmed within 15 months, then most recent verification first), then
    nearest. Every location carries its practitioner's copies, so the rows need no grouping: a
    bounded top-N sort, not a sort of the whole circle; a practitioner's first row is their
    nearest location (see _Search.ranked).
    kind "walk": the same rows as "ranked" (for sort=verified, those of its first group: the
    filter "first_verified"), read from an index in the order's own order (sort_name, or
    verified_on descending), which stops after :rows rows instead of reading the whole circle;
    only the ties within one name or one day are sorted, by distance (see _Search.walk).
    Every other kind reads the covering search index (listed, band, longitude, latitude,
    condition bits, practitioner, accepting, verified until, languages, lowest fee, session
    length, wheelchair, gender, verified on, sort name, confirmed on), on SQLite and
    PostgreSQL alike: one longitude range in each 0.1° latitude band of the circle's bounding
    box. A count or a ranking needs no distance test for the points in the circle's inscribed box.
    """
    if kind != "walk":
        table = _BySearch.of(PracticeLocation.__table__)
    else:
        table = (_ByName if sort == "name" else _ByVerified).of(PracticeLocation.__table__)
    loc = table.c
    distance = _distance_sql(loc)
    if kind == "count":
        stmt = select(loc.practitioner_id)
    elif kind in ("ranked", "walk"):
        stmt = select(loc.practitioner_id.label("pid"), distance.label("distance"))
    else:
        stmt = select(loc.practitioner_id.label("pid"), func.min(distance).label("distance"))
    stmt = stmt.select_from(table).where(*_where(loc, distance, kind, antimeridian, filters))
    cap = bindparam("cap", type_=Integer)
    if kind == "count" and dialect == "postgresql":
        rows = stmt.limit(cap * ROWS_PER_PRACTITIONER).subquery()
        return select(func.count(rows.c.practitioner_id.distinct()), func.count() >= cap * ROWS_PER_PRACTITIONER)
    if kind == "count":
        return select(func.count(), func.count() > cap).select_from(stmt.distinct().limit(cap + 1).subquery())
    nearest = [literal_column("distance"), loc.practitioner_id]
    if kind == "page":
        return stmt.group_by(loc.practitioner_id).order_by(*nearest).limit(bindparam("limit", type_=Integer))
    if sort == "name":
        # The index's copy of the lower-cased name: no join.
        order = [loc.sort_name]
    elif kind == "walk":
        # Within the first group (current, confirmed, a verification day) only the day orders.
        order = [loc.verified_on.desc()]
    else:
        current = case((_current(loc), 1), else_=0)
        confirmed = case((_confirmed(loc), 1), else_=0)
        order = [current.desc(), confirmed.desc(), loc.verified_on.desc().nulls_last()]
    return stmt.order_by(*order, *nearest).limit(bindparam("rows", type_=Integer))


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
        if query.language_code:
            filters.append("language")
            self.base["language"] = index_pattern(query.language_code)
        if query.verified_only:
            filters.append("verified")
        if query.fee_max is not None:
            filters.append("fee")
            self.base["fee_max"] = query.fee_max
        if query.session_minutes is not None:
            filters.append("session")
            self.base["session_minutes"] = query.session_minutes
        if query.wheelchair_only:
            filters.append("wheelchair")
        if query.gender:
            filters.append("gender")
            self.base["gender"] = query.gender
        if query.verified_only or query.sort == "verified":
            self.base["today"] = today()
        if query.sort == "verified":
            self.base["stale_before"] = today() - DETAILS_STALE_AFTER
        self.filters = tuple(filters)

    def _run(self, kind: str, radius_km: float, filters: tuple[str, ...] = (), **extra):
        lat, lon = self.query.latitude, self.query.longitude
        min_lat, max_lat, lon_ranges = bounding_box(lat, lon, radius_km)
        params = dict(
            self.base,
            radius=radius_km,
            bands=latitude_bands(min_lat, max_lat),
            lat_lo=min_lat,
            lat_hi=max_lat,
            lon_lo=lon_ranges[0][0],
            lon_hi=lon_ranges[0][1],
            **extra,
        )
        if len(lon_ranges) > 1:
            params.update(lon_lo2=lon_ranges[1][0], lon_hi2=lon_ranges[1][1])
        if kind == "walk":
            del params["bands"]
        if kind != "page":
            box = inner_box(lat, lon, radius_km) or NO_BOX
            params.update(in_lat_lo=box[0], in_lat_hi=box[1], in_lon_lo=box[2], in_lon_hi=box[3])
        sort = self.query.sort if kind in ("ranked", "walk") else "distance"
        statement = _statement(kind, self.dialect, len(lon_ranges) > 1, self.filters + filters, sort)
        return db.session.execute(statement, params)

    def count(self, radius_km: float, cap: int, filters: tuple[str, ...] = ()) -> tuple[int, bool]:
        """(practitioners within radius_km, whether that is all of them), counting little past cap.

        When it is not all of them, the number is a lower bound (at least cap, unless many
        practitioners have several locations in the circle).
        """
        count, more = self._run("count", radius_km, filters, cap=cap).one()
        return count, not more

    def nearest(self, radius_km: float, limit: int) -> list:
        """The `limit` nearest practitioners within radius_km: (pid, distance), nearest first."""
        return self._run("page", radius_km, limit=limit).all()

    def ranked(self, limit: int) -> list:
        """The first `limit` practitioners in the whole circle by the query's sort: (pid, distance).

        The rows are locations; each practitioner's first row is their nearest. A practitioner
        with several locations in the circle takes several rows, so when the rows run out
        before `limit` practitioners, more rows are read.
        """
        return self._first_practitioners("ranked", limit, limit * ROWS_PER_PRACTITIONER)

    def walk(self, limit: int) -> list | None:
        """The same as ranked(limit), read in the order's own index: for a crowded circle.

        The walk reads the whole directory's locations in the order's index and keeps those in
        the circle, so it costs about rows x (listed locations / matching locations in the
        circle) entries, against the circle's every location for the ranking. By name, every
        location matching the search is in the one order. By verification, the walk reads the
        first group only (currently verified, details confirmed, with a verification day),
        after a bounded count said that group alone holds the `limit` practitioners (else None:
        rank the circle). A walk stops at :rows rows, a few more than `limit`, because a
        practitioner rarely has two locations in one circle.
        """
        filters: tuple[str, ...] = ()
        if self.query.sort == "verified":
            filters = ("first_verified",)
            count, exact = self.count(self.query.radius_km, limit, filters)
            if exact and count < limit:
                return None
        return self._first_practitioners("walk", limit, limit + limit // 4 + 2, filters)

    def _first_practitioners(self, kind: str, limit: int, rows: int, filters: tuple[str, ...] = ()) -> list:
        """The first `limit` practitioners of kind's rows, each at their first (nearest) row.

        A practitioner with several locations in the circle takes several rows, so when the
        rows run out before `limit` practitioners, more rows are read.
        """
        while True:
            found = self._run(kind, self.query.radius_km, filters, rows=rows).all()
            first: dict[int, object] = {}
            for row in found:
                first.setdefault(row.pid, row)
            if len(first) >= limit or len(found) < rows:
                return list(first.values())[:limit]
            rows *= 4


# Where a crowded circle is walked. PostgreSQL's planner estimates the rows of a crowded box at
# one or two (its latitude and longitude ranges taken as independent), so given a walk's
# statement it still reads the whole box and sorts it, slower than the ranking (measured at
# 100,000): there a crowded circle is ranked, as any other.
WALK_DIALECTS = frozenset({"sqlite"})


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
    """Practitioners within the radius, nearest first (or by the query's sort), one page of them."""
    search = _Search(query)
    limit = count_limit()
    count, exact = search.count(query.radius_km, limit)
    if count > limit:
        count, exact = limit, False
    offset = (query.page - 1) * query.per_page
    rows: list = []
    if offset < count or not exact:
        wanted = offset + query.per_page
        # Only the nearest first can come from a smaller circle; other orders rank the whole
        # one, unless it is crowded (more matching practitioners than the count goes to, and
        # than the page needs): then, on SQLite, they walk their own index until the page is full.
        if query.sort == "distance":
            rows = search.nearest(_page_radius(search, wanted, count, exact), wanted)
        else:
            crowded = not exact and wanted <= limit and search.dialect in WALK_DIALECTS
            walked = search.walk(wanted) if crowded else None
            rows = search.ranked(wanted) if walked is None else walked
        rows = rows[offset:]
    return SearchResult(query=query, count=count, hits=load_hits(query, rows), count_exact=exact)
