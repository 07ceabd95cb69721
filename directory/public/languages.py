"""The languages the search page offers: those that listed practitioners speak, by English name.

Reading them scans every profile (70 ms at 100,000, 570 ms at 1,000,000 on SQLite), so each
process keeps the list for LANGUAGE_LIST_SECONDS (default 300); within a request it is read at
most once. A language added since still works from the URL: the form adds the one asked for.
"""

from __future__ import annotations

import time

from flask import current_app, g, has_app_context, has_request_context

from directory.extensions import db
from directory.languages import canonical_name
from directory.models import Practitioner

DEFAULT_SECONDS = 300


def _read() -> list[str]:
    texts = db.session.execute(
        db.select(Practitioner.languages)
        .where(Practitioner.published.is_(True), Practitioner.suspended.is_(False), Practitioner.languages != "")
        .distinct()
    ).scalars()
    names = {canonical_name(part) for text in texts for part in text.split(",") if part.strip()}
    return sorted(name for name in names if name)


def listed_languages() -> list[str]:
    """The English names of the languages listed practitioners speak, distinct and sorted.

    One query over the distinct `languages` texts of published, unsuspended profiles, at most
    once per request and once per LANGUAGE_LIST_SECONDS per process; each name is normalised
    ("Español" -> "Spanish"), so older spellings still fall under one language.
    """
    cached = g.get("_listed_languages") if has_request_context() else None
    if cached is not None:
        return cached
    seconds = float(current_app.config.get("LANGUAGE_LIST_SECONDS", DEFAULT_SECONDS)) if has_app_context() else 0
    shared = current_app.extensions.get("listed_languages") if has_app_context() else None
    if seconds > 0 and shared is not None and shared[0] > time.monotonic():
        cached = shared[1]
    else:
        cached = _read()
        if seconds > 0:
            current_app.extensions["listed_languages"] = (time.monotonic() + seconds, cached)
    if has_request_context():
        g._listed_languages = cached
    return cached
