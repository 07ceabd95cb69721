"""Credential queue benchmark: the admin queue page at 100,000 pending credentials.

    .venv/bin/python bench/admin_queue.py                      # 100,000 pending, bench/queue-100000.sqlite
    .venv/bin/python bench/admin_queue.py --pending 1000000 --practitioners 100000
    .venv/bin/python bench/admin_queue.py --reuse              # time again without seeding
    .venv/bin/python bench/admin_queue.py --reuse --without-queue-index

The queue's order is served by the index `ix_certifications_queue (status, created_at, id)`
(migration 0011); `--without-queue-index` drops it from the benchmark's database only, to
measure what it changes.

Seeds demo practitioners with the demo bulk seeder (`seed_demo`), then tops their credentials up
with bulk-inserted pending ones (`directory.demo.rows.Batch`) until exactly `--pending` wait,
submitted over the last two years, a third with an evidence file. Then times the queue page
through the Flask test client, signed in as an admin: the first page, a middle page, the last
page, filters, searches, and a decision with its redirect to the next item. Prints the median
and p95 of `--runs` requests per case, and the page size.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa  # noqa: E402

from bench._common import make_app, migrate_and_seed, percentile, remove_sqlite  # noqa: E402
from directory.demo.data import CREDENTIAL_MIX  # noqa: E402
from directory.demo.rows import Batch, Ids  # noqa: E402
from directory.extensions import db  # noqa: E402
from directory.models import Certification, CertifyingBody, Practitioner, Role, User, VerificationStatus  # noqa: E402
from directory.models.base import utcnow  # noqa: E402

BENCH_FOLDER = os.path.dirname(os.path.abspath(__file__))
QUEUE_INDEX = "CREATE INDEX IF NOT EXISTS ix_certifications_queue ON certifications (status, created_at, id)"
BATCH = 5000
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def top_up_pending(target: int, seed: int) -> int:
    """Bulk-insert pending credentials (spread over practitioners, bodies and two years) until `target` wait."""
    rng = random.Random(seed)
    pending = db.session.execute(
        sa.select(sa.func.count()).select_from(Certification).where(Certification.status == VerificationStatus.PENDING)
    ).scalar_one()
    practitioner_ids = db.session.execute(sa.select(Practitioner.id)).scalars().all()
    bodies = {b.slug: b.id for b in db.session.execute(sa.select(CertifyingBody)).scalars()}
    kinds = [(slug, code) for mix in CREDENTIAL_MIX.values() for slug, code, _ in mix]
    ids = Ids(Certification)
    now = utcnow()
    batch = Batch()
    for i in range(max(0, target - pending)):
        slug, code = rng.choice(kinds)
        evidence = rng.random() < 0.33
        batch.add(
            Certification.__table__,
            {
                "id": ids.take(Certification),
                "practitioner_id": rng.choice(practitioner_ids),
                "body_id": bodies[slug],
                "credential": code,
                "credential_number": f"{slug[:2].upper()}-{rng.randint(10000, 99999)}",
                "issued_on": (now - timedelta(days=rng.randint(400, 6000))).date(),
                "expires_on": (now + timedelta(days=rng.randint(60, 1100))).date(),
                "status": VerificationStatus.PENDING,
                "created_at": now - timedelta(seconds=rng.randint(0, 2 * 365 * 86400)),
                "verified_at": None,
                "verified_by_id": None,
                "verification_source": "",
                "verification_note": "",
                "rejection_reason": "",
                "evidence_path": f"bench-{i}.pdf" if evidence else "",
                "evidence_name": "certificate.pdf" if evidence else "",
                "evidence_mimetype": "application/pdf" if evidence else "",
                "expiry_warning_sent_for": None,
                "expiry_notice_sent_for": None,
            },
        )
        if (i + 1) % BATCH == 0:
            batch.flush()
    batch.flush()
    db.session.commit()
    return db.session.execute(
        sa.select(sa.func.count()).select_from(Certification).where(Certification.status == VerificationStatus.PENDING)
    ).scalar_one()


def seed(app, args) -> None:
    """A fresh database: migrations, demo practitioners, the pending credentials and an admin."""
    with app.app_context():
        started = time.perf_counter()
        migrate_and_seed(args.practitioners, args.seed)
        pending = top_up_pending(args.pending, args.seed)
        db.session.add(User(email="bench.admin@example.org", name="Bench Admin", role=Role.ADMIN))
        db.session.commit()
        with db.engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
        print(
            f"Seeded {args.practitioners:,} practitioners and {pending:,} pending credentials "
            f"in {time.perf_counter() - started:.1f} s"
        )


def admin_client(app):
    """A test client signed in as the benchmark's admin (as the tests sign in)."""
    client = app.test_client()
    with app.app_context():
        admin = db.session.execute(sa.select(User).filter_by(email="bench.admin@example.org")).scalar_one()
        identity = admin.get_id()
    with client.session_transaction() as session:
        session["_user_id"] = identity
        session["_fresh"] = True
    return client


def cases(app) -> list[tuple[str, str]]:
    """(label, URL) of each timed page, from what the database holds."""
    with app.app_context():
        pending = db.session.execute(
            sa.select(sa.func.count())
            .select_from(Certification)
            .where(Certification.status == VerificationStatus.PENDING)
        ).scalar_one()
        upledger = db.session.execute(sa.select(CertifyingBody.id).filter_by(slug="upledger")).scalar_one()
        name, email = db.session.execute(
            sa.select(Practitioner.display_name, Practitioner.email).order_by(Practitioner.id).limit(1).offset(500)
        ).one()
    pages = max(1, math.ceil(pending / 50))
    return [
        ("first page", "/admin/credentials"),
        (f"middle page ({pages // 2:,})", f"/admin/credentials?page={pages // 2}"),
        (f"last page ({pages:,})", f"/admin/credentials?page={pages}"),
        ("body + >30 days + evidence", f"/admin/credentials?body={upledger}&age=30&evidence=yes"),
        ("same, page 100", f"/admin/credentials?body={upledger}&age=30&evidence=yes&page=100"),
        ("credential RCST, >90 days", "/admin/credentials?credential=RCST&age=90"),
        (f"search name '{name.split()[-1]}'", f"/admin/credentials?q={name.split()[-1]}"),
        ("search email", f"/admin/credentials?q={email.split('@')[0]}"),
        ("search, no match", "/admin/credentials?q=zzzzqqq"),
    ]


def time_decisions(app, client, runs: int) -> list[float]:
    """Verify `runs` credentials from the middle of a filtered view; each POST answers with the next item."""
    query = "?age=30&page=500"
    page = client.get("/admin/credentials" + query).get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    timings = []
    for _ in range(runs):
        ids = re.findall(r'id="cert-(\d+)"', client.get("/admin/credentials" + query).get_data(as_text=True))
        started = time.perf_counter()
        response = client.post(
            f"/admin/credentials/{ids[0]}/verify{query}",
            data={"csrf_token": token, "method": "register checked", "reference": "bench register 1"},
        )
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 303 and "#cert-" in response.location, response.status_code
    return timings


def run(args) -> None:
    """Seed (unless reusing), time, print."""
    path = os.path.join(args.folder, f"queue-{args.pending}.sqlite")
    if not args.reuse:
        remove_sqlite(path)
    app = make_app("sqlite:///" + path)
    print(f"Database: sqlite ({path})")
    if not args.reuse:
        seed(app, args)
    with app.app_context(), db.engine.begin() as conn:
        if args.without_queue_index:
            conn.execute(sa.text("DROP INDEX IF EXISTS ix_certifications_queue"))
        else:
            conn.execute(sa.text(QUEUE_INDEX))
        conn.execute(sa.text("ANALYZE"))
    print(
        "Without the queue index" if args.without_queue_index else "With the models' indexes (ix_certifications_queue)"
    )
    client = admin_client(app)
    print(f"\n{args.runs} requests per case, after 3 warm-ups; ms for the whole request through the test client\n")
    header = f"{'case':<34} | {'p50 ms':>8} {'p95 ms':>8} | {'items':>5} {'KB':>6}"
    print(header)
    print("-" * len(header))
    for label, url in cases(app):
        for _ in range(3):
            client.get(url)
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        html = response.get_data(as_text=True)
        items = html.count('class="card mb-4 queue-item"')
        print(
            f"{label:<34} | {percentile(timings, 0.5):>8.1f} {percentile(timings, 0.95):>8.1f} | "
            f"{items:>5} {len(response.data) / 1024:>6.0f}"
        )
    timings = time_decisions(app, client, args.runs)
    print(
        f"{'verify + next item (age>30, p.500)':<34} | {percentile(timings, 0.5):>8.1f} "
        f"{percentile(timings, 0.95):>8.1f} | {'':>5} {'':>6}"
    )


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pending", type=int, default=100_000, help="pending credentials (default 100,000)")
    parser.add_argument("--practitioners", type=int, default=20_000, help="demo practitioners (default 20,000)")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per case (default 30)")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--folder", default=BENCH_FOLDER, help="where the SQLite file goes (default: bench/)")
    parser.add_argument("--reuse", action="store_true", help="time the existing file again, without seeding")
    parser.add_argument(
        "--without-queue-index", action="store_true", help="drop the (status, created_at, id) index first, to compare"
    )
    run(parser.parse_args())


if __name__ == "__main__":
    main()
