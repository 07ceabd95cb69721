"""A crowded circle sorted by name or by verification is read from an index in that order until
the page is full (the "walk"), and gives exactly what ranking the whole circle gives: the same
practitioners, in the same order, at the same distances, on every page, with every filter."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from directory.extensions import db
from directory.models import VerificationStatus
from directory.search import parse_search_args, search_practitioners
from directory.search.engine import WALK_DIALECTS, _Search
from tests.factories import CertificationFactory, PractitionerFactory

HERE = (40.015, -105.27)
# The count stops past this many: a circle holding more is crowded, and walked.
COUNT_LIMIT = 20
PER_PAGE = 5
FILTERS = {
    "condition": "tmj",
    "verified": "1",
    "accepting": "1",
    "language": "es",
    "fee_max": "80",
    "session_minutes": "60",
    "wheelchair": "1",
    "gender": "female",
}
# Each filter alone, a few pairs, and none: a walk must keep exactly what the ranking keeps.
COMBINATIONS = (
    [{}]
    + [{k: v} for k, v in FILTERS.items()]
    + [
        {"accepting": "1", "wheelchair": "1"},
        {"condition": "tmj", "gender": "female"},
        {"verified": "1", "fee_max": "80"},
        {"language": "es", "session_minutes": "60"},
    ]
)


@pytest.fixture
def crowded(app):
    """A town of 120 practitioners within 15 km, and 40 more a few hundred km away.

    Names repeat (ties go to the nearest), so do verification days; a sixth have three
    locations in town, some one in town and one far away; a few were never confirmed for
    15 months, some credentials expired, some are only pending, some have none.
    """
    app.config["SEARCH_COUNT_LIMIT"] = COUNT_LIMIT
    rng = random.Random(7)
    today = date.today()
    names = ["Ann Ash", "ann ash", "Bea Birch", "Cy Cedar", "Di Dogwood", "Ed Elm", "Flo Fir"]
    stale = []
    for i in range(160):
        far = i >= 120
        lat0, lon0 = (HERE[0] + 3.0, HERE[1]) if far else HERE
        points = [(lat0 + rng.uniform(-0.1, 0.1), lon0 + rng.uniform(-0.1, 0.1))]
        if i % 6 == 0:
            points += [(lat0 + rng.uniform(-0.1, 0.1), lon0 + rng.uniform(-0.1, 0.1)) for _ in range(2)]
        elif i % 7 == 0:
            points.append((HERE[0] - 3.0, HERE[1]))  # a second practice far away
        practitioner = PractitionerFactory(
            display_name=rng.choice(names),
            locations=points,
            conditions=rng.sample(["tmj", "fibromyalgia", "neck-back-pain"], rng.randint(0, 2)),
            accepting_new_patients=rng.random() < 0.7,
            languages=rng.choice(["English", "English, Spanish", "Spanish"]),
            fee_min=rng.choice([None, 50, 70, 90]),
            session_minutes=rng.choice([None, 45, 60, 90]),
            wheelchair_accessible=rng.random() < 0.5,
            gender=rng.choice([None, "female", "male", "nonbinary"]),
        )
        roll = rng.random()
        if roll < 0.65:
            day = today - timedelta(days=rng.choice([3, 3, 40, 40, 400]))
            expired = rng.random() < 0.25
            CertificationFactory(
                practitioner=practitioner,
                status=VerificationStatus.VERIFIED,
                verified_at=datetime(day.year, day.month, day.day, 12, 0),
                expires_on=today - timedelta(days=1) if expired else None,
            )
        elif roll < 0.8:
            CertificationFactory(practitioner=practitioner)  # pending
        if rng.random() < 0.15:
            stale.append(practitioner)
    for practitioner in stale:
        practitioner.created_at = datetime.now(UTC) - timedelta(days=600)
    db.session.commit()


def _walks_here() -> bool:
    """Whether this database walks a crowded circle (SQLite) or ranks it (PostgreSQL)."""
    return db.engine.dialect.name in WALK_DIALECTS


def _query(sort: str, page: int, **filters):
    args = {"lat": HERE[0], "lon": HERE[1], "radius_km": 25, "sort": sort, "page": page, "per_page": PER_PAGE}
    return parse_search_args({k: str(v) for k, v in {**args, **filters}.items()}).query


class _Statements:
    """The SQL statements run inside the block."""

    def __init__(self) -> None:
        self.sql: list[tuple[str, object]] = []

    def keep(self, conn, cursor, statement, parameters, context, executemany):  # noqa: ARG002
        self.sql.append((statement, parameters))

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self.keep)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self.keep)

    def walks(self, sort: str) -> list[tuple[str, object]]:
        """The walks among them: read in the order's index, no latitude bands named."""
        order = "ORDER BY practice_locations.sort_name" if sort == "name" else "ORDER BY practice_locations.verified_on"
        return [(sql, p) for sql, p in self.sql if order in sql and "band" not in sql]


@pytest.mark.parametrize("sort", ["name", "verified"])
def test_every_page_of_a_walked_crowded_circle_is_the_ranked_one(app, crowded, sort):
    walked = 0
    for filters, page in itertools.product(COMBINATIONS, (1, 2, 3)):
        query = _query(sort, page, **filters)
        wanted = page * PER_PAGE
        ranked = _Search(query).ranked(wanted)
        walk = _Search(query).walk(wanted)
        case = f"sort={sort} page {page} {filters}"
        if walk is not None:
            walked += 1
            assert [tuple(r) for r in walk] == [tuple(r) for r in ranked], case
        with _Statements() as statements:
            result = search_practitioners(query)
        offset = (page - 1) * PER_PAGE
        assert [(h.practitioner.id, h.distance_km) for h in result.hits] == [
            (r.pid, r.distance) for r in ranked[offset:]
        ], case
        if not result.count_exact and walk is not None:
            # PostgreSQL's planner would not walk: there the crowded circle is ranked too.
            assert bool(statements.walks(sort)) is _walks_here(), case
        if result.count_exact:  # a circle the count saw whole is ranked, never walked
            assert not statements.walks(sort), case
    # The town is crowded for most of these searches.
    assert walked >= 15


@pytest.mark.parametrize("sort", ["name", "verified"])
def test_the_api_pages_through_a_walked_circle_like_the_ranking(app, client, crowded, sort):
    """Through the API: page after page, each practitioner once, at their nearest location."""
    seen, expected = [], []
    for page in (1, 2, 3, 4):
        with _Statements() as statements:
            data = client.get(
                "/api/v1/practitioners",
                query_string={
                    "lat": HERE[0],
                    "lon": HERE[1],
                    "radius_km": 25,
                    "sort": sort,
                    "page": page,
                    "per_page": 5,
                },
            ).get_json()
        assert data["count"] == COUNT_LIMIT and data["count_exact"] is False
        assert bool(statements.walks(sort)) is _walks_here()
        seen += [(r["id"], r["distance_km"]) for r in data["results"]]
    query = _query(sort, 1)
    for row in _Search(query).ranked(20):
        expected.append((row.pid, round(row.distance, 2)))
    assert [pid for pid, _ in seen] == [pid for pid, _ in expected]
    assert len(set(pid for pid, _ in seen)) == 20
    assert [km for _, km in seen] == pytest.approx([km for _, km in expected], abs=0.01)


def test_sort_by_verified_ranks_the_circle_when_its_first_group_is_too_small(app, crowded):
    """Few practitioners in town are currently verified, confirmed and male: page 3 needs
    others, so the walk of that group gives way to ranking the circle."""
    query = _query("verified", 3, gender="male")
    search = _Search(query)
    count, exact = search.count(25, COUNT_LIMIT, ("first_verified",))
    assert exact and count < 15
    assert search.walk(15) is None
    with _Statements() as statements:
        result = search_practitioners(query)
    assert not statements.walks("verified")
    assert [h.practitioner.id for h in result.hits] == [r.pid for r in search.ranked(15)[10:]]


@pytest.mark.parametrize("sort", ["name", "verified"])
def test_a_walk_reads_its_index_in_order_and_never_a_table_row(app, crowded, sort):
    """SQLite's plan: the order's index, read in its order (only ties are sorted), covering."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan")
    every = {k: v for k, v in FILTERS.items() if k != "verified"}
    for filters in ({}, every):
        with _Statements() as statements:
            search_practitioners(_query(sort, 1, **filters))
        walks = statements.walks(sort)
        if not filters:
            assert walks
        raw = db.session.connection().connection.driver_connection
        (root,) = raw.execute("SELECT rootpage FROM sqlite_master WHERE name = 'practice_locations'").fetchone()
        for sql, parameters in walks:
            plan = " ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", parameters))
            assert f"USING COVERING INDEX ix_practice_locations_by_{sort} (listed=?" in plan, plan
            assert "RIGHT PART OF ORDER BY" in plan, plan
            program = raw.execute(f"EXPLAIN {sql}", parameters).fetchall()
            assert not [op for op in program if op[1] == "OpenRead" and op[3] == root], plan
