"""`flask seed-demo`: the showcase practitioners, then generated ones in batches of bulk inserts.

Rows are written with SQLAlchemy Core in batches (executemany), so 100,000 practitioners take
seconds, not minutes.
"""

from __future__ import annotations

import random

from sqlalchemy import select, text

from directory.demo.generator import generate_practitioner, load_reference
from directory.demo.rows import Batch, Ids
from directory.demo.showcase import seed_showcase
from directory.demo.towns import sample_towns
from directory.extensions import db
from directory.models import Certification, PracticeLocation, Practitioner, ProfessionalLicense, Training

BATCH = 5000
# The tables whose ids the seeder hands out itself.
ID_MODELS = (Practitioner, PracticeLocation, Certification, Training, ProfessionalLicense)


def has_practitioners() -> bool:
    """True when at least one practitioner exists."""
    return db.session.execute(select(Practitioner.id).limit(1)).first() is not None


def _reset_sequences() -> None:
    """After explicit ids, move PostgreSQL's sequences past them."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in ID_MODELS:
        name = model.__tablename__
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608  (table names are ours)
                f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
            )
        )


def seed_demo(count: int = 2000, seed: int = 1, details: bool = True) -> int:
    """Add `count` demo practitioners (the hand-made showcase ones first); returns how many.

    `details=False` leaves out trainings and licences (the search benchmark needs neither).
    """
    rng = random.Random(seed)
    made = seed_showcase(limit=count)
    ref = load_reference()
    ids = Ids(*ID_MODELS)
    remaining = count - made
    try:
        while remaining > 0:
            size = min(BATCH, remaining)
            batch = Batch()
            for town in sample_towns(rng, size):
                generate_practitioner(rng, ids, batch, town, ref, details)
            batch.flush()
            remaining -= size
            made += size
        _reset_sequences()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return made
