"""Lookups that several areas share: the condition taxonomy and a listed practitioner.

They live here, in the area that owns practitioners, so that no view module imports another
blueprint's view module to reach them.
"""

from __future__ import annotations

from flask import abort

from directory.extensions import db
from directory.models import Condition, Practitioner


def all_conditions() -> list[Condition]:
    """The taxonomy, in display order."""
    return db.session.execute(db.select(Condition).order_by(Condition.sort_order, Condition.name)).scalars().all()


def get_listed_practitioner_or_404(practitioner_id: int) -> Practitioner:
    """A published, unsuspended practitioner, or 404."""
    practitioner = db.session.get(Practitioner, practitioner_id)
    if practitioner is None or not practitioner.is_listed:
        abort(404)
    return practitioner
