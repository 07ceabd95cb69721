"""Load once, in gunicorn's master before it forks, what the app would otherwise load on first use.

Each worker then starts with the time zone data, the language names, the password list, the compiled templates and
the search statements already in memory (shared with the master until written to), and no first request pays for them.
The offline geocoder's data is opened by create_app itself (prepare_geocoder).
"""

from __future__ import annotations

import itertools

from flask import Flask

# The search statement shapes nearly every request uses: no extra filter, each sort order.
COMMON_SORTS = ("distance", "name", "verified")


def warm_up(app: Flask) -> None:
    """Build what later requests need, without touching the database (no connection crosses a fork)."""
    from directory import languages, timezones
    from directory.accounts.passwords import common_passwords
    from directory.extensions import db
    from directory.search import engine, results

    timezones.preload()
    languages.preload()
    common_passwords()
    with app.app_context():
        dialect = db.engine.dialect.name
        compile_templates(app)
    results._hit_statements()
    for antimeridian, sort in itertools.product((False, True), COMMON_SORTS):
        engine._statement("page", dialect, antimeridian, (), sort)
    for antimeridian in (False, True):
        engine._statement("count", dialect, antimeridian, ())


def after_fork(app: Flask) -> None:
    """In a new worker: drop the database connections inherited from the master (never share a socket)."""
    from directory.extensions import db

    with app.app_context():
        db.engine.dispose(close=False)


def compile_templates(app: Flask) -> int:
    """Compile every page and mail template now (Jinja keeps them), instead of on each worker's first use."""
    names = [name for name in app.jinja_env.list_templates() if name.endswith((".html", ".txt", ".xml", ".js"))]
    for name in names:
        app.jinja_env.get_template(name)
    return len(names)
