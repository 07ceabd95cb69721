"""Writing the directory as CSV: one row per practice location, in the import's format."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.csv_io.format import COLUMNS, spreadsheet_safe
from directory.extensions import db
from directory.models import Certification, Practitioner, VerificationStatus


def _credentials_cell(p: Practitioner) -> str:
    """The practitioner's credentials that are not rejected, as `body:CODE@YYYY-MM-DD;...`."""
    return ";".join(
        dict.fromkeys(
            f"{c.body.slug}:{c.credential}" + (f"@{c.expires_on.isoformat()}" if c.expires_on else "")
            for c in p.certifications
            if c.status != VerificationStatus.REJECTED
        )
    )


def _number(value: int | None) -> str:
    """A whole number as its digits, "" for none."""
    return "" if value is None else str(value)


def export_rows() -> Iterable[list[str]]:
    """Every practitioner with a practice location, one row per location, in COLUMNS order."""
    stmt = (
        select(Practitioner)
        .order_by(Practitioner.id)
        .options(
            selectinload(Practitioner.locations),
            selectinload(Practitioner.conditions),
            selectinload(Practitioner.certifications).selectinload(Certification.body),
        )
        .execution_options(yield_per=500)
    )
    for p in db.session.execute(stmt).scalars():
        conditions = ";".join(c.slug for c in p.conditions)
        credentials = _credentials_cell(p)
        for loc in p.locations:
            yield [
                p.display_name,
                p.email,
                p.practice_name,
                loc.address,
                loc.city,
                loc.region,
                loc.postal_code,
                loc.country,
                repr(loc.latitude),
                repr(loc.longitude),
                conditions,
                credentials,
                "yes" if p.accepting_new_patients else "no",
                _number(p.session_minutes),
                ";".join(p.language_list),
                p.phone,
                p.website,
                _number(p.fee_min),
                _number(p.fee_max),
                p.currency,
                "yes" if p.wheelchair_accessible else "no",
                p.gender or "",
            ]


def export_practitioners(out) -> int:
    """Write the CSV (header and rows) to a text stream; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in export_rows():
        writer.writerow([spreadsheet_safe(value) for value in row])
        count += 1
    return count
