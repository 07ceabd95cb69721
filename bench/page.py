"""HTML search page benchmark: the results page (map data included) against bare pages, under gunicorn.

    .venv/bin/python bench/page.py                       # 100,000 practitioners, fresh SQLite file
    .venv/bin/python bench/page.py --folder /tmp/pagebench --reuse   # keep the seeded file between runs
    .venv/bin/python bench/page.py --threads 8 --seconds 20 --workers 2 --worker-threads 1

Seeds N demo practitioners as bench/search.py does, starts gunicorn with the project's production
settings (gunicorn.conf.py: preloaded and warmed-up app, gthread workers, JSON request log) on a
free loopback port, and times, with a fixed number of client threads for a fixed time each:
`/healthz` (the cheapest route: no template, no database, no request log), the 404 page (the
site's layout, no database), `/search?near=10001` (a full results page: 20 cards and the map's
JSON data block) and the same with filters. Each client thread keeps its connection open between
requests, as nginx does. The client runs on the same machine as the server: the figures compare
the pages side by side; they are not the machine's capacity. "bare ÷" is how many times more
requests a second the bare page (/healthz, or the 404 page where the app has no /healthz) answers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from typing import NamedTuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import _common as common  # noqa: E402


class Case(NamedTuple):
    """A page to time: its label, path, the status it answers, and a text the answer must hold."""

    label: str
    path: str
    status: int
    marker: str


HEALTHZ = Case("bare: /healthz", common.READY_PATH, 200, '"ok"')
NOT_FOUND = Case("404 page", "/no-such-page", 404, "</html>")
SEARCH = Case("search near=10001", "/search?near=10001", 200, 'id="results-map-data"')
FILTERED = Case(
    "search + filters",
    "/search?near=10001&radius=50&language=Spanish&fee_max=120&session_minutes=60&accepting=1&sort=name",
    200,
    'id="results-map-data"',
)


def seeded_database(args) -> str:
    """The SQLite file with N demo practitioners: seeded now, or the one --reuse finds."""
    folder = args.folder or tempfile.mkdtemp(prefix="cst-pagebench-")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"page-bench-{args.count}.sqlite")
    url = "sqlite:///" + path
    if args.reuse and os.path.exists(path):
        print(f"Database: {path} (reused)")
        return url
    common.remove_sqlite(path)
    started = time.perf_counter()
    with common.make_app(url).app_context():
        common.migrate_and_seed(args.count, args.seed)
    print(f"Database: {path}, {args.count:,} practitioners seeded in {time.perf_counter() - started:.0f} s")
    return url


def check(case: Case, status: int, body: bytes) -> None:
    """Fail loudly when a page is not what is being measured."""
    if status != case.status or case.marker.encode() not in body:
        raise RuntimeError(f"{case.path}: status {status} (expected {case.status}), body: {body[:300]!r}")


def load(port: int, case: Case, threads: int, seconds: float) -> tuple[list[float], int]:
    """`threads` clients asking for one page back to back for `seconds`: (latencies in ms, errors)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        mine, bad, connection = [], 0, common.KeptAliveClient(port)
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            status, body, _timed_out = connection.get(case.path)
            mine.append((time.perf_counter() - t0) * 1000)
            bad += not (status == case.status and case.marker.encode() in body)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    clients = [threading.Thread(target=client) for _ in range(threads)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    return latencies, errors[0]


def run(args) -> None:
    """Seed, serve, load each page in turn, print the table."""
    url = seeded_database(args)
    port = common.free_port()
    log = tempfile.NamedTemporaryFile(prefix="cst-pagebench-gunicorn-", suffix=".log", delete=False)
    uploads = tempfile.mkdtemp(prefix="cst-pagebench-uploads-")
    server = common.start_gunicorn(url, port, args, log, uploads)
    try:
        started = time.perf_counter()
        common.wait_until_serving(port, server)
        # The very first request after the start: a search, the first this worker process answers.
        t0 = time.perf_counter()
        status, body = common.get(port, SEARCH.path)
        first_ms = (time.perf_counter() - t0) * 1000
        check(SEARCH, status, body)
        status, body = common.get(port, HEALTHZ.path)
        cases = [HEALTHZ, NOT_FOUND, SEARCH, FILTERED] if status == HEALTHZ.status else [NOT_FOUND, SEARCH, FILTERED]
        print(
            f"gunicorn ({common.served_by(log.name)}, {'gunicorn.conf.py' if os.path.exists(common.CONFIG) else 'no config file'}) "
            f"on 127.0.0.1:{port}; serving after {(t0 - started) * 1000:.0f} ms; "
            f"first request ({SEARCH.path}) {first_ms:.0f} ms"
        )
        print(
            f"\n{args.threads} client threads, {args.seconds:g} s per page after {args.warmup:g} s of warm-up; "
            "times in ms\n"
        )
        header = f"{'page':<18} {'size KB':>8} | {'req/s':>7} {'bare ÷':>7} | {'p50':>7} {'p95':>7} | {'requests':>8} {'errors':>6}"
        print(header)
        print("-" * len(header))
        bare_rps = None
        for case in cases:
            status, body = common.get(port, case.path)
            check(case, status, body)
            load(port, case, args.threads, args.warmup)
            latencies, errors = load(port, case, args.threads, args.seconds)
            rps = len(latencies) / args.seconds
            bare_rps = bare_rps or rps
            print(
                f"{case.label:<18} {len(body) / 1024:>8.1f} | {rps:>7.1f} {bare_rps / rps:>6.1f}x | "
                f"{common.percentile(latencies, 0.5):>7.1f} {common.percentile(latencies, 0.95):>7.1f} | {len(latencies):>8} {errors:>6}"
            )
        for case in cases:
            print(f"  {case.label}: {case.path}")
        # Other work on the machine shows here (the client and the server share its CPUs).
        print("Load average (1, 5, 15 min): " + ", ".join(f"{n:.1f}" for n in os.getloadavg()))
    finally:
        common.stop_gunicorn(server, timeout=30)
        log.close()
        shutil.rmtree(uploads, ignore_errors=True)
    print(f"gunicorn's log: {log.name}")


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="practitioners to seed (default 100,000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the data")
    parser.add_argument("--folder", help="where to put the SQLite file (default: a new temporary folder)")
    parser.add_argument("--reuse", action="store_true", help="use the folder's seeded file when it is there")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's, 2 per CPU + 1)")
    parser.add_argument("--worker-threads", type=int, help="threads per worker (default: gunicorn.conf.py's, 2)")
    parser.add_argument("--threads", type=int, default=8, help="concurrent client threads (default 8)")
    parser.add_argument("--seconds", type=float, default=15, help="timed seconds per page (default 15)")
    parser.add_argument("--warmup", type=float, default=2, help="untimed seconds per page first (default 2)")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
