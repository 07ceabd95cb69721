"""Load benchmark: a fixed request mix against `make serve`'s gunicorn on PostgreSQL, at several user counts.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/load.py
    ... bench/load.py --count 100000 --users 10,50,200 --seconds 15 --reuse

Seeds N demo practitioners into a dedicated database, `cst_load` (dropped and created; --reuse
keeps one already seeded with N), with one verified provider who has sent 30 referrals, then
starts gunicorn with the project's settings (gunicorn.conf.py, FLASK_ENV=production, workers and
threads as gunicorn.conf.py chooses unless --workers/--worker-threads) on a free loopback port.
For each number of users it runs, for S seconds each:

1. the bare page: the 404 page (the site's layout, a template, no database): the ceiling;
2. the search page alone (`/search?near=<postal code>`);
3. the mix: 70% search page, 15% profile page, 10% JSON search (`/api/v1/practitioners`),
   5% the signed-in provider's referral list (`/referrals/`);

and prints requests a second, p50/p95/p99 latency and errors (any answer but the expected status,
or no answer within --timeout) per endpoint, and the search page's share of the bare page's rate.
Each user is a thread with one kept-alive connection (http.client), asking back to back, as nginx
keeps connections to the app. The client runs on the same machine as the server, so the figures
compare pages side by side under the same load; they are not the machine's capacity.

Rate limits stay on (in RATELIMIT_STORAGE_URI when set, else in each worker's memory) but are
raised past what the run can reach: every user comes from 127.0.0.1, one address.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import date
from typing import NamedTuple

# The project on the path, and not bench/ itself (bench/queue.py would hide the standard library's queue).
_BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [os.path.dirname(_BENCH)] + [p for p in sys.path if os.path.abspath(p or ".") != _BENCH]

import sqlalchemy as sa  # noqa: E402

from bench import _common as common  # noqa: E402

LOAD_DATABASE = "cst_load"
PROVIDER_EMAIL = "load.provider@example.org"
PROVIDER_PASSWORD = "load-test provider password"  # noqa: S105  (a throw-away benchmark account)
REFERRALS = 30
# US postal codes across the country (the offline gazetteer knows them).
POSTAL_CODES = ("10001", "60601", "94103", "80302", "98101", "02108", "30303", "33101", "85001", "75201")


class Endpoint(NamedTuple):
    """A kind of request in the mix: label, share of the mix, expected status, text the answer must hold."""

    label: str
    weight: int
    status: int
    marker: bytes


SEARCH = Endpoint("search page", 70, 200, b'id="results-map-data"')
PROFILE = Endpoint("profile page", 15, 200, b"</html>")
JSON_SEARCH = Endpoint("JSON search", 10, 200, b'"results"')
REFERRAL_LIST = Endpoint("referral list (signed in)", 5, 200, b"</html>")
BARE = Endpoint("bare: 404 page", 100, 404, b"</html>")
MIX = (SEARCH, PROFILE, JSON_SEARCH, REFERRAL_LIST)


def database_url(args) -> tuple[str, bool]:
    """The cst_load database on DATABASE_URL's server: (url, already seeded with --count)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql")):
        sys.exit("bench/load.py runs on PostgreSQL: set DATABASE_URL=postgresql+psycopg://USER@HOST:PORT/postgres")
    url = url.replace("postgres://", "postgresql+psycopg://", 1).replace("postgresql://", "postgresql+psycopg://", 1)
    parsed = sa.engine.make_url(url)
    target = parsed.set(database=LOAD_DATABASE)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": LOAD_DATABASE}).first()
        if args.reuse and exists:
            engine = sa.create_engine(target)
            try:
                with engine.connect() as db_conn:
                    seeded = db_conn.execute(sa.text("SELECT count(*) FROM practitioners")).scalar_one()
            except sa.exc.DBAPIError:
                seeded = -1
            engine.dispose()
            if seeded == args.count:
                admin.dispose()
                return target.render_as_string(hide_password=False), True
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{LOAD_DATABASE}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{LOAD_DATABASE}"'))
    admin.dispose()
    return target.render_as_string(hide_password=False), False


def seed(url: str, args) -> None:
    """Migrate, seed N practitioners, and a verified provider with REFERRALS referrals sent."""
    from directory.accounts.passwords import hash_password
    from directory.extensions import db
    from directory.models import Condition, Practitioner, Role, User
    from directory.models.accounts import ProviderStatus
    from directory.models.base import utcnow
    from directory.referrals import service
    from directory.referrals.service import ReferralInput

    started = time.perf_counter()
    with common.make_app(url).app_context():
        common.migrate_and_seed(args.count, args.seed)
        provider = User(
            email=PROVIDER_EMAIL,
            role=Role.PROVIDER,
            name="Dr. Load Tester",
            profession="Physician",
            organization="Load Test Clinic",
            registration_number="MD-LOAD",
            provider_status=ProviderStatus.VERIFIED,
            password_hash=hash_password(PROVIDER_PASSWORD),
            confirmed_at=utcnow(),
        )
        db.session.add(provider)
        db.session.flush()
        listed = Practitioner.published.is_(True) & Practitioner.suspended.is_(False)
        recipients = db.session.execute(sa.select(Practitioner).where(listed).limit(REFERRALS)).scalars().all()
        condition = db.session.execute(sa.select(Condition).limit(1)).scalar_one()
        for n, practitioner in enumerate(recipients):
            data = ReferralInput(
                practitioner=practitioner,
                patient_name=f"Load Patient {n}",
                patient_phone="+1 303 555 0100",
                patient_email="",
                patient_birth_date=date(1980, 1, 1),
                conditions=[condition],
                reason="Jaw pain",
                clinical_notes="",
                urgency="routine",
                consent=True,
            )
            service.create_referral(provider, data)
        db.session.commit()
    print(f"Seeded {args.count:,} practitioners and {REFERRALS} referrals in {time.perf_counter() - started:.0f} s")


def listed_ids(url: str, n: int, rng: random.Random) -> list[int]:
    """Up to n ids of practitioners whose profile pages answer 200."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        ids = list(conn.execute(sa.text("SELECT id FROM practitioners WHERE published AND NOT suspended")).scalars())
    engine.dispose()
    return rng.sample(ids, min(n, len(ids)))


def towns(rng: random.Random, n: int) -> list[tuple[float, float]]:
    from directory.demo import sample_towns

    return [(town["lat"], town["lon"]) for town in sample_towns(rng, n)]


def sign_in(port: int) -> str:
    """Sign the provider in through the form; the Cookie header of the session."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/account/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    from urllib.parse import urlencode

    body = urlencode({"csrf_token": token, "email": PROVIDER_EMAIL, "password": PROVIDER_PASSWORD})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    conn.request("POST", "/account/login", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 302:
        raise RuntimeError(f"signing the provider in answered {response.status}")
    return response.getheader("Set-Cookie", "").split(";")[0]


class Results:
    """Latencies and errors per endpoint, gathered from every user thread."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.timeouts: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()


def cache_counts(port: int) -> tuple[float, float]:
    """(hits, misses) of the kept search pages so far, from /metrics (every worker's, added up)."""
    text = common.get(port, "/metrics")[1].decode()
    found = dict(re.findall(r'^cst_search_page_cache_total\{result="(hit|miss)"\} ([0-9.e+]+)$', text, re.M))
    return float(found.get("hit", 0)), float(found.get("miss", 0))


def cache_line(before: tuple[float, float], after: tuple[float, float]) -> str:
    hits, misses = after[0] - before[0], after[1] - before[1]
    total = hits + misses
    share = f"{hits / total:.0%}" if total else "n/a"
    return f"  kept search pages: {hits:,.0f} hits, {misses:,.0f} drawn ({share} answered from the kept copy)"


def run_phase(port: int, users: int, seconds: float, pick, timeout: float) -> tuple[Results, float]:
    """`users` threads asking back to back for `seconds`; `pick(rng)` gives (endpoint, path, headers)."""
    results = Results()
    start = threading.Barrier(users + 1)
    deadline = [0.0]

    def user(number: int) -> None:
        rng = random.Random(number)
        lat, errors, timeouts = defaultdict(list), defaultdict(int), defaultdict(int)
        connection = common.KeptAliveClient(port, timeout)
        start.wait()
        while time.perf_counter() < deadline[0]:
            endpoint, path, headers = pick(rng)
            t0 = time.perf_counter()
            status, body, timed_out = connection.get(path, headers)
            lat[endpoint.label].append((time.perf_counter() - t0) * 1000)
            if timed_out:
                timeouts[endpoint.label] += 1
            if status != endpoint.status or endpoint.marker not in body:
                errors[endpoint.label] += 1
        connection.close()
        with results.lock:
            for label, values in lat.items():
                results.latencies[label].extend(values)
            for label, count in errors.items():
                results.errors[label] += count
            for label, count in timeouts.items():
                results.timeouts[label] += count

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(users)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - began


def report(title: str, results: Results, elapsed: float, order: list[str]) -> dict[str, float]:
    """Print one table; returns requests a second per endpoint (and "all")."""
    print(f"  {title}")
    print(f"    {'endpoint':28} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    rates = {}
    everything: list[float] = []
    rows = [label for label in order if label in results.latencies]
    for label in rows:
        values = results.latencies[label]
        everything.extend(values)
        rates[label] = len(values) / elapsed
        print(
            f"    {label:28} {len(values):9d} {rates[label]:8.1f} {common.percentile(values, 0.5):8.1f} "
            f"{common.percentile(values, 0.95):8.1f} {common.percentile(values, 0.99):8.1f} {results.errors[label]:7d}"
            + (f" ({results.timeouts[label]} timeouts)" if results.timeouts[label] else "")
        )
    if len(rows) > 1:
        rates["all"] = len(everything) / elapsed
        print(
            f"    {'all':28} {len(everything):9d} {rates['all']:8.1f} {common.percentile(everything, 0.5):8.1f} "
            f"{common.percentile(everything, 0.95):8.1f} {common.percentile(everything, 0.99):8.1f} "
            f"{sum(results.errors.values()):7d}"
        )
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="practitioners to seed (default 100,000)")
    parser.add_argument("--users", default="10,50,200", help="concurrent users per level (default 10,50,200)")
    parser.add_argument("--seconds", type=float, default=60, help="seconds per phase and level (default 60)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds before a request counts as timed out")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the data")
    parser.add_argument("--reuse", action="store_true", help="keep cst_load when it already holds --count")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's choice)")
    parser.add_argument("--worker-threads", type=int, help="threads per worker (default: gunicorn.conf.py's)")
    parser.add_argument(
        "--search-places",
        choices=("postal", "towns"),
        default="postal",
        help="the search page asks near one of 10 US postal codes (default), or near one of 500 towns by coordinates",
    )
    args = parser.parse_args()
    levels = [int(n) for n in args.users.split(",") if n.strip()]

    url, reused = database_url(args)
    if reused:
        print(f"Database: {LOAD_DATABASE} with {args.count:,} practitioners (reused)")
    else:
        seed(url, args)
    rng = random.Random(args.seed)
    profiles = listed_ids(url, 5000, rng)
    points = towns(rng, 500)

    os.environ.setdefault("LOG_FORMAT", "json")
    port = common.free_port()
    log_path = os.path.join(tempfile.mkdtemp(prefix="cst-load-"), "gunicorn.log")
    with open(log_path, "wb") as log:
        server = common.start_gunicorn(url, port, args, log, tempfile.mkdtemp(prefix="cst-load-uploads-"))
    try:
        common.wait_until_serving(port, server)
        time.sleep(1)
        print(f"gunicorn: {common.served_by(log_path)} on 127.0.0.1:{port}; the client runs on the same machine")
        cookie = sign_in(port)
        signed_in = {"Cookie": cookie}

        def search_path(r: random.Random) -> str:
            if args.search_places == "towns":
                lat, lon = r.choice(points)
                return f"/search?lat={lat:.4f}&lon={lon:.4f}"
            return f"/search?near={r.choice(POSTAL_CODES)}"

        def pick_mix(r: random.Random):
            endpoint = r.choices(MIX, weights=[e.weight for e in MIX])[0]
            if endpoint is SEARCH:
                return endpoint, search_path(r), {}
            if endpoint is PROFILE:
                return endpoint, f"/practitioners/{r.choice(profiles)}", {}
            if endpoint is JSON_SEARCH:
                lat, lon = r.choice(points)
                return endpoint, f"/api/v1/practitioners?lat={lat:.4f}&lon={lon:.4f}", {}
            return endpoint, "/referrals/", signed_in

        for users in levels:
            print(f"\n{users} users, {args.seconds:g} s per phase")
            bare, bare_elapsed = run_phase(
                port, users, args.seconds, lambda r: (BARE, "/no-such-page", {}), args.timeout
            )
            bare_rate = report("bare page", bare, bare_elapsed, [BARE.label])[BARE.label]
            counted = cache_counts(port)
            alone, alone_elapsed = run_phase(
                port, users, args.seconds, lambda r: (SEARCH, search_path(r), {}), args.timeout
            )
            alone_rate = report("search page alone", alone, alone_elapsed, [SEARCH.label])[SEARCH.label]
            print(cache_line(counted, counted := cache_counts(port)))
            mixed, mixed_elapsed = run_phase(port, users, args.seconds, pick_mix, args.timeout)
            rates = report("mix (70/15/10/5)", mixed, mixed_elapsed, [e.label for e in MIX])
            print(cache_line(counted, cache_counts(port)))
            print(
                f"  search page alone ÷ bare page: {alone_rate / bare_rate:.0%}; "
                f"mix ÷ bare page: {rates['all'] / bare_rate:.0%}"
            )
    finally:
        common.stop_gunicorn(server, timeout=60)


if __name__ == "__main__":
    main()
