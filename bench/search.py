"""Search benchmark: the JSON search against a naive baseline, side by side.

    .venv/bin/python bench/search.py                   # 100,000 practitioners, fresh SQLite file
    .venv/bin/python bench/search.py --count 1000000
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/search.py

Seeds N demo practitioners (towns weighted by population), then times
`GET /api/v1/practitioners` through the Flask test client for radius 25 and 100 km,
with and without a condition filter, from query points drawn where people live.
The baseline loads every location and computes geopy distances in Python. Then every
other filter and order alone (fees, session length, wheelchair, gender, a language typed
in its own spelling, sort by name and by verification) and all of them together, and the
first request of a freshly started process (a new interpreter creates the app and asks
once, by place name, then by coordinates) against the median of the requests after it.
On PostgreSQL a dedicated database, `cst_bench`, is dropped and created (never `test`).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa  # noqa: E402
from flask import json  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from geopy.distance import great_circle  # noqa: E402

from bench._common import make_app, percentile, remove_sqlite  # noqa: E402
from directory.api.serializers import practitioner_summary  # noqa: E402
from directory.demo import sample_towns, seed_demo  # noqa: E402
from directory.demo.towns import us_zips  # noqa: E402
from directory.extensions import db  # noqa: E402
from directory.models import Certification, Condition, PracticeLocation, Practitioner  # noqa: E402

BENCH_DATABASE = "cst_bench"
# The filters and orders timed alone and together, besides the conditions (API only).
OTHER_FILTERS = (
    "verified=1",
    "accepting=1",
    "language=spanish",
    f"language={quote('Español')}",
    "fee_max=80",
    "session_minutes=60",
    "wheelchair=1",
    "gender=female",
    "sort=name",
    "sort=verified",
    "verified=1&accepting=1&condition=tmj",
    f"fee_max=80&session_minutes=60&wheelchair=1&gender=female&language={quote('Español')}",
    "verified=1&accepting=1&condition=tmj&fee_max=80&session_minutes=60&wheelchair=1&gender=female"
    "&language=es&sort=verified",
)


def database_url(args) -> str:
    """A fresh database: a new SQLite file, or the cst_bench database on DATABASE_URL's server."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql")):
        url = url.replace("postgres://", "postgresql+psycopg://", 1).replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
        parsed = sa.engine.make_url(url)
        admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
        admin.dispose()
        return parsed.set(database=BENCH_DATABASE).render_as_string(hide_password=False)
    folder = args.folder or tempfile.mkdtemp(prefix="cst-bench-")
    path = os.path.join(folder, f"bench-{args.count}.sqlite")
    if args.reuse and os.path.exists(path):
        return "sqlite:///" + path
    remove_sqlite(path)
    return "sqlite:///" + path


def baseline_search(
    lat: float, lon: float, radius_km: float, mask: int, count_limit: int, per_page: int = 20
) -> tuple[int, list, str]:
    """The naive way: every location into Python, geopy distances, sort, then the page as JSON.

    Its count stops at the same limit as the site's ("more than 1,000"), so that the answers compare.
    """
    loc, prac = PracticeLocation.__table__.c, Practitioner.__table__.c
    rows = db.session.execute(
        sa.select(loc.practitioner_id, loc.latitude, loc.longitude, loc.condition_bits)
        .join(Practitioner.__table__, prac.id == loc.practitioner_id)
        .where(prac.published.is_(True), prac.suspended.is_(False))
    ).all()
    best: dict[int, float] = {}
    center = (lat, lon)
    for pid, la, lo, bits in rows:
        if bits & mask != mask:
            continue
        km = great_circle(center, (la, lo)).km
        if km <= radius_km and (pid not in best or km < best[pid]):
            best[pid] = km
    ordered = sorted(best.items(), key=lambda kv: (kv[1], kv[0]))[:per_page]
    ids = [pid for pid, _ in ordered]
    found = {
        p.id: p
        for p in db.session.execute(
            sa.select(Practitioner)
            .where(Practitioner.id.in_(ids))
            .options(
                sa.orm.selectinload(Practitioner.locations),
                sa.orm.selectinload(Practitioner.conditions),
                sa.orm.selectinload(Practitioner.certifications).selectinload(Certification.body),
            )
        ).scalars()
    }
    results = []
    for pid, km in ordered:
        p = found[pid]
        nearest = min(p.locations, key=lambda x: great_circle(center, (x.latitude, x.longitude)).km)
        results.append(practitioner_summary(p, km, nearest))
    count = min(len(best), count_limit)
    body = json.dumps(
        {"count": count, "count_exact": len(best) <= count_limit, "page": 1, "per_page": per_page, "results": results}
    )
    return count, ids, body


def first_request(url: str, paths: list[str]) -> None:
    """In a fresh process: create the app, time its very first request, then the ones after it.

    Prints one JSON line: the app's start, the first request and the median and p95 of the rest.
    """
    started = time.perf_counter()
    app = make_app(url, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    start_ms = (time.perf_counter() - started) * 1000
    timings = []
    for path in paths:
        t0 = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
    rest = timings[1:]
    print(
        json.dumps(
            {"start": start_ms, "first": timings[0], "median": statistics.median(rest), "p95": percentile(rest, 0.95)}
        )
    )


def first_requests(url: str, rng: random.Random) -> None:
    """The first search of a freshly started process against the median of the next 100, in subprocesses."""
    zips = sorted(code for codes in us_zips().values() for code, _area in codes)
    by_name = [f"/api/v1/practitioners?near={code}&radius_km=25" for code in rng.sample(zips, 101)]
    points = [(round(t["lat"], 4), round(t["lon"], 4)) for t in sample_towns(rng, 101)]
    by_point = [f"/api/v1/practitioners?lat={lat}&lon={lon}&radius_km=25" for lat, lon in points]
    print("\nFirst request of a freshly started process (a new interpreter: app created, place data untouched)")
    for label, paths in (("near=ZIP code", by_name), ("lat & lon", by_point)):
        done = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--first-request-of", url, *paths],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"{label:>14}: failed\n{done.stderr[-2000:]}")
            continue
        times = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{label:>14}: app start {times['start']:.0f} ms; first request {times['first']:.2f} ms, "
            f"the next 100 p50 {times['median']:.2f} ms, p95 {times['p95']:.2f} ms "
            f"(first / p50 = {times['first'] / times['median']:.1f}x)"
        )


def run(args) -> None:
    """Seed, time, compare and print."""
    url = database_url(args)
    app = make_app(url, WTF_CSRF_ENABLED=False)
    dialect = sa.engine.make_url(url).get_backend_name()
    print(f"Database: {dialect} ({sa.engine.make_url(url).render_as_string()})")
    with app.app_context():
        started = time.perf_counter()
        upgrade()
        seeded = db.session.execute(sa.select(sa.func.count()).select_from(Practitioner)).scalar_one()
        if not seeded:
            seed_demo(count=args.count, seed=args.seed, details=False)
            # Statistics for the planner; on PostgreSQL also the visibility map that index-only
            # scans need (autovacuum keeps it on a live database).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE" if dialect == "postgresql" else "ANALYZE"))
        locations = db.session.execute(sa.select(sa.func.count()).select_from(PracticeLocation)).scalar_one()
        done = "Reused" if seeded else f"Seeded in {time.perf_counter() - started:.1f} s:"
        print(f"{done} {args.count:,} practitioners ({locations:,} locations)")
        tmj = db.session.execute(sa.select(Condition).filter_by(slug="tmj")).scalar_one()
        db.session.remove()

    rng = random.Random(args.seed + 1)
    points = [
        # Rounded, so that the baseline gets exactly the point the API parses.
        (round(t["lat"] + rng.uniform(-0.05, 0.05), 5), round(t["lon"] + rng.uniform(-0.05, 0.05), 5))
        for t in sample_towns(rng, args.queries)
    ]
    client = app.test_client()
    cases = [(25, None), (25, "tmj"), (100, None), (100, "tmj")]
    print(
        f"\n{args.queries} API queries and {args.baseline_queries} baseline queries per case; times in ms "
        "(whole JSON request through the test client); counts stop at "
        f"SEARCH_COUNT_LIMIT={app.config['SEARCH_COUNT_LIMIT']:,}\n"
    )
    header = f"{'radius':>7} {'condition':>9} | {'API p50':>8} {'API p95':>8} | {'naive p50':>9} {'naive p95':>9} | {'x p50':>6} {'x p95':>6} | {'count p50':>9} {'> limit':>7}"
    print(header)
    print("-" * len(header))
    agree = checked = 0
    for radius, condition in cases:

        def url_for_point(lat, lon, radius=radius, condition=condition):
            query = f"/api/v1/practitioners?lat={lat}&lon={lon}&radius_km={radius}"
            return query + (f"&condition={condition}" if condition else "")

        for lat, lon in points[:20]:  # warm-up
            client.get(url_for_point(lat, lon))
        timings, counts, over = [], [], 0
        answers = {}
        for i, (lat, lon) in enumerate(points):
            t0 = time.perf_counter()
            response = client.get(url_for_point(lat, lon))
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.get_data(as_text=True)
            data = response.get_json()
            counts.append(data["count"])
            over += not data["count_exact"]
            if i < args.baseline_queries:
                answers[i] = (data["count"], [r["id"] for r in data["results"]])
        base = []
        mask = tmj.mask if condition else 0
        with app.test_request_context():
            for i, (lat, lon) in enumerate(points[: args.baseline_queries]):
                t0 = time.perf_counter()
                count, ids, _ = baseline_search(lat, lon, radius, mask, app.config["SEARCH_COUNT_LIMIT"])
                base.append((time.perf_counter() - t0) * 1000)
                checked += 1
                agree += (count, ids) == answers[i]
                db.session.remove()
        p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
        b50, b95 = percentile(base, 0.5), percentile(base, 0.95)
        print(
            f"{radius:>4} km {condition or 'any':>9} | {p50:>8.2f} {p95:>8.2f} | {b50:>9.1f} {b95:>9.1f} | "
            f"{b50 / p50:>5.0f}x {b95 / p95:>5.0f}x | {percentile(counts, 0.5):>9} {100 * over / len(points):>6.0f}%"
        )
    print(f"\nBaseline and API agree (count and page of ids) on {agree}/{checked} queries.")
    # The other filters, API only (the baseline has no filters but conditions).
    print(
        f"\nOther filters and orders, {args.queries} API queries each; times in ms: wall clock, and the CPU "
        "time of the request's thread (which a busy machine inflates less)"
    )
    for radius in (25, 100):
        for extra in ("", *OTHER_FILTERS):
            for lat, lon in points[:20]:  # warm-up: each shape's statements are built once
                client.get(f"/api/v1/practitioners?lat={lat}&lon={lon}&radius_km={radius}&{extra}")
            timings, cpu = [], []
            for lat, lon in points:
                t0, c0 = time.perf_counter(), time.thread_time()
                response = client.get(f"/api/v1/practitioners?lat={lat}&lon={lon}&radius_km={radius}&{extra}")
                timings.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.thread_time() - c0) * 1000)
                assert response.status_code == 200, response.get_data(as_text=True)
            print(
                f"{radius:>4} km {extra or '(no filter)':<60} p50 {percentile(timings, 0.5):>6.2f}  p95 {percentile(timings, 0.95):>6.2f}"
                f"  | CPU p50 {percentile(cpu, 0.5):>6.2f}  p95 {percentile(cpu, 0.95):>6.2f}"
            )
    first_requests(url, rng)
    # The floor of any request on this machine right now: a busy machine shows here.
    floor = []
    for _ in range(200):
        t0 = time.perf_counter()
        client.get("/api/v1/conditions")
        floor.append((time.perf_counter() - t0) * 1000)
    print(f"Floor: GET /api/v1/conditions p50 {percentile(floor, 0.5):.2f} ms, p95 {percentile(floor, 0.95):.2f} ms")


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="practitioners to seed (default 100,000)")
    parser.add_argument("--queries", type=int, default=300, help="timed API queries per case (default 300)")
    parser.add_argument("--baseline-queries", type=int, default=5, help="timed baseline queries per case (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for data and query points")
    parser.add_argument("--folder", help="where to put the SQLite file (default: a new temporary folder)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --folder: time the SQLite file a previous run seeded there (same --count) instead of a new one",
    )
    # Internal: the fresh process that times a first request (see first_requests).
    parser.add_argument("--first-request-of", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.first_request_of:
        first_request(args.first_request_of, args.paths)
    else:
        run(args)


if __name__ == "__main__":
    main()
