"""Health checks for load balancers: /healthz (the process answers) and /readyz (it can serve).

Both are exempt from rate limits and from the request log (see ops/__init__.py and logs.py).
"""

from __future__ import annotations

import logging
import os

from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from limits.storage import storage_from_string
from sqlalchemy import inspect, text

from directory.extensions import db

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "migrations")
NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz():
    """The process answers (nothing else is checked: a restart would not fix a database outage)."""
    return jsonify(status="ok"), 200, NO_STORE


@bp.get("/readyz")
def readyz():
    """Ready to serve: the database answers and is migrated to head, Redis answers when it is used."""
    problems = readiness_problems()
    if problems:
        return jsonify(status="unavailable", problems=problems), 503, NO_STORE
    return jsonify(status="ok"), 200, NO_STORE


def readiness_problems() -> list[str]:
    """What stops this process from serving requests, in words; empty when nothing does."""
    problems = []
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = database_revisions(conn)
    except Exception as error:  # noqa: BLE001  (any failure to reach the database means "not ready")
        # The details (host, port, driver message) go to the log, not to whoever asked.
        log.warning("readiness: database unreachable: %s", error)
        problems.append(f"database unreachable ({type(error).__name__})")
    else:
        expected = script_heads()
        if current != expected:
            problems.append(
                "database not migrated to head: at "
                f"{', '.join(sorted(current)) or 'no revision'}, expected {', '.join(sorted(expected))} "
                "(run: flask --app wsgi db upgrade)"
            )
    storage = rate_limit_storage()
    if storage is not None and not storage.check():
        problems.append("rate-limit storage (Redis) unreachable at RATELIMIT_STORAGE_URI")
    return problems


def database_revisions(conn) -> set[str]:
    """The migration revisions the database is at (Alembic's table read directly: no log lines per probe)."""
    if not inspect(conn).has_table("alembic_version"):
        return set()
    return set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def script_heads() -> set[str]:
    """The head revisions of the migration scripts shipped with this code (read once per process)."""
    heads = current_app.extensions.get("ops.script_heads")
    if heads is None:
        heads = current_app.extensions["ops.script_heads"] = set(ScriptDirectory(MIGRATIONS_DIR).get_heads())
    return heads


def rate_limit_storage():
    """A client of the rate-limit store when it is Redis (kept per app), else None."""
    uri = current_app.config.get("RATELIMIT_STORAGE_URI", "memory://")
    if not uri.split("://", 1)[0].startswith("redis"):
        return None
    storage = current_app.extensions.get("ops.ratelimit_storage")
    if storage is None:
        storage = current_app.extensions["ops.ratelimit_storage"] = storage_from_string(
            uri, socket_connect_timeout=2, socket_timeout=2
        )
    return storage
