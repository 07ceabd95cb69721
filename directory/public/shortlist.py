"""The visitor's shortlist: up to ten practitioners kept in the session, without an account.

Only practitioner ids are kept (in Flask's signed session cookie). The functions take the session
as a plain mapping, so they know nothing about requests and are tested on a dict.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from directory.extensions import db
from directory.models import Practitioner

SESSION_KEY = "shortlist"
LIMIT = 10


class ShortlistFull(Exception):
    """The shortlist already holds LIMIT practitioners."""


def saved_ids(session: MutableMapping) -> list[int]:
    """The saved ids, in the order they were saved; anything malformed in the cookie is ignored."""
    raw = session.get(SESSION_KEY)
    if not isinstance(raw, list):
        return []
    ids: list[int] = []
    for value in raw:
        # bool is an int subclass: a tampered `true` must not count as practitioner 1.
        if isinstance(value, int) and not isinstance(value, bool) and value > 0 and value not in ids:
            ids.append(value)
    return ids[:LIMIT]


def _store(session: MutableMapping, ids: list[int]) -> None:
    if ids:
        session[SESSION_KEY] = ids
    else:
        session.pop(SESSION_KEY, None)


def add(session: MutableMapping, practitioner_id: int) -> bool:
    """Save a practitioner; False when already saved. Raises ShortlistFull at the limit."""
    ids = saved_ids(session)
    if practitioner_id in ids:
        return False
    if len(ids) >= LIMIT:
        raise ShortlistFull(f"Your shortlist is full: it holds {LIMIT} practitioners. Remove one to save another.")
    _store(session, [*ids, practitioner_id])
    return True


def remove(session: MutableMapping, practitioner_id: int) -> bool:
    """Take a practitioner off the shortlist; False when they were not on it."""
    ids = saved_ids(session)
    if practitioner_id not in ids:
        return False
    _store(session, [i for i in ids if i != practitioner_id])
    return True


def clear(session: MutableMapping) -> None:
    """Empty the shortlist."""
    session.pop(SESSION_KEY, None)


def listed_practitioners(session: MutableMapping) -> list[Practitioner]:
    """The saved practitioners still listed, in saved order; ids of the others are dropped."""
    ids = saved_ids(session)
    if not ids:
        return []
    rows = db.session.execute(db.select(Practitioner).where(Practitioner.id.in_(ids))).scalars().all()
    by_id = {p.id: p for p in rows if p.is_listed}
    kept = [i for i in ids if i in by_id]
    if kept != session.get(SESSION_KEY):
        _store(session, kept)
    return [by_id[i] for i in kept]
