"""Engine set-up and the flush hook that keeps the search index columns in step."""

from __future__ import annotations

import math

from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


def _register_sqlite_functions(dbapi_connection, connection_record) -> None:  # noqa: ARG001
    """Foreign keys on, WAL for concurrent readers, and math functions if SQLite lacks them."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    try:
        cursor.execute("SELECT sin(0), radians(0), asin(0), sqrt(1)")
    except Exception:  # an SQLite built without SQLITE_ENABLE_MATH_FUNCTIONS
        for name, fn in (
            ("sin", math.sin),
            ("cos", math.cos),
            ("asin", math.asin),
            ("sqrt", math.sqrt),
            ("radians", math.radians),
        ):
            dbapi_connection.create_function(name, 1, fn, deterministic=True)
    cursor.close()


def configure_engine(engine: Engine) -> None:
    """Per-dialect connection set-up."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _register_sqlite_functions)


@event.listens_for(Session, "before_flush")
def _locate_time_zones(session: Session, flush_context, instances) -> None:  # noqa: ARG001
    """Give each new or moved practice location the IANA time zone of its coordinates."""
    from directory.models import PracticeLocation
    from directory.timezones import time_zone_at

    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, PracticeLocation) or obj.latitude is None or obj.longitude is None:
            continue
        state = sa_inspect(obj)
        moved = state.attrs.latitude.history.has_changes() or state.attrs.longitude.history.has_changes()
        if obj in session.new or moved:
            obj.time_zone = time_zone_at(obj.latitude, obj.longitude)


@event.listens_for(Session, "before_flush")
def _sync_search_columns(session: Session, flush_context, instances) -> None:  # noqa: ARG001
    """Copy onto each location what the search index filters on, before it is written.

    The practitioner's condition bits, listed flag (published and not suspended), accepting
    new patients, the last day a credential of theirs counts as verified, languages, fees,
    session length, wheelchair access, gender and the day of the latest verification.
    """
    from directory.models import Certification, PracticeLocation, Practitioner
    from directory.models.practitioners import search_copies

    touched = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Practitioner):
            touched.add(obj)
        elif isinstance(obj, (PracticeLocation, Certification)) and obj.practitioner is not None:
            touched.add(obj.practitioner)
    deleted = set(session.deleted)
    for practitioner in touched:
        if practitioner in deleted:
            continue
        values = search_copies(
            condition_bits=practitioner.condition_bits,
            published=practitioner.published,
            suspended=practitioner.suspended,
            accepting=practitioner.accepting_new_patients,
            languages=practitioner.languages,
            verified_until=practitioner.verified_until(excluding=deleted),
            verified_on=practitioner.verified_on(excluding=deleted),
            fee_from=practitioner.fee_from,
            session_minutes=practitioner.session_minutes,
            wheelchair=practitioner.wheelchair_accessible,
            gender=practitioner.gender,
            display_name=practitioner.display_name,
            confirmed_on=practitioner.confirmed_on,
        )
        for location in practitioner.locations:
            for name, value in values.items():
                if getattr(location, name) != value:
                    setattr(location, name, value)
