"""Bulk rows: primary keys handed out before insert, and rows written per table with executemany."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from directory.extensions import db
from directory.models import Certification, PracticeLocation, Practitioner, ProfessionalLicense, Training
from directory.models.practitioners import practitioner_conditions

# Parents before children, so that every foreign key points at a written row.
INSERT_ORDER = (
    Practitioner.__table__,
    PracticeLocation.__table__,
    practitioner_conditions,
    Certification.__table__,
    Training.__table__,
    ProfessionalLicense.__table__,
)


class Ids:
    """Next free primary key per table, so rows can reference each other before insert."""

    def __init__(self, *models) -> None:
        self.next = {m: (db.session.execute(select(func.max(m.id))).scalar() or 0) + 1 for m in models}

    def take(self, model) -> int:
        """The next free id of the model's table."""
        value = self.next[model]
        self.next[model] = value + 1
        return value


class Batch:
    """Rows waiting to be inserted, per table, written with executemany."""

    def __init__(self) -> None:
        self.rows: dict = {}

    def add(self, table, row: dict) -> None:
        """Queue a row (a dict that may still change until the flush)."""
        self.rows.setdefault(table, []).append(row)

    def flush(self) -> None:
        """Insert every queued row, parents first, and empty the batch."""
        for table in INSERT_ORDER:
            rows = self.rows.pop(table, [])
            if rows:
                db.session.execute(insert(table), rows)
        self.rows.clear()
