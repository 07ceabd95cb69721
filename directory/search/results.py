"""What a search returns: read-only views built from plain rows, and the two queries that load them.

A page of results never loads ORM objects: the page's practitioners, their locations and their
credentials come from two statements built once and run with bound parameters.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask import g, has_request_context
from sqlalchemy import Date, bindparam, select

from directory.extensions import db
from directory.models import (
    Certification,
    CertifyingBody,
    Condition,
    PracticeLocation,
    Practitioner,
    VerificationStatus,
)
from directory.models.base import today
from directory.search.geometry import great_circle_km

if TYPE_CHECKING:
    from directory.search.params import SearchQuery


@dataclass(frozen=True)
class ConditionView:
    """A condition of the taxonomy, as a search uses and shows it."""

    id: int
    slug: str
    name: str
    bit: int
    sort_order: int

    @property
    def mask(self) -> int:
        """The bit mask of this condition in the search index."""
        return 1 << self.bit


def taxonomy() -> list[ConditionView]:
    """The condition taxonomy in display order, read once per request."""
    cached = g.get("_search_taxonomy") if has_request_context() else None
    if cached is None:
        c = Condition.__table__.c
        cached = [
            ConditionView(*row)
            for row in db.session.execute(
                select(c.id, c.slug, c.name, c.bit, c.sort_order).order_by(c.sort_order, c.name)
            )
        ]
        if has_request_context():
            g._search_taxonomy = cached
    return cached


@dataclass(frozen=True)
class BodyView:
    """The certifying body of a credential shown in a result."""

    slug: str
    name: str


@dataclass(frozen=True)
class CertificationView:
    """A credential shown in a result; `is_currently_verified` comes from the model's SQL rule."""

    body: BodyView
    credential: str
    status: VerificationStatus
    verified_at: datetime | None
    expires_on: date | None
    is_currently_verified: bool
    is_expired: bool


@dataclass(frozen=True)
class LocationView:
    """The practice location nearest to the searched point."""

    id: int
    city: str
    region: str
    country: str
    latitude: float
    longitude: float


@dataclass
class PractitionerView:
    """What a search result shows of a practitioner: read-only, built from plain rows."""

    id: int
    display_name: str
    practice_name: str
    accepting_new_patients: bool
    conditions: list[ConditionView] = field(default_factory=list)
    certifications: list[CertificationView] = field(default_factory=list)
    phone: str = ""
    session_minutes: int | None = None
    fee_min: int | None = None
    fee_max: int | None = None
    currency: str = ""
    # English names, as stored ("English, Spanish" -> ["English", "Spanish"]).
    languages: list[str] = field(default_factory=list)
    wheelchair_accessible: bool = False
    # "female", "male", "nonbinary", or None when the practitioner does not say.
    gender: str | None = None
    photo_path: str | None = None

    @property
    def tel(self) -> str:
        """The phone number for a tel: link (digits and +)."""
        return "".join(ch for ch in self.phone if ch.isdigit() or ch == "+")

    @property
    def fees(self) -> str:
        """The fee range as shown: "60–90", "60", or "" when none is stated."""
        shown = sorted({fee for fee in (self.fee_min, self.fee_max) if fee is not None})
        return "–".join(f"{fee:,}" for fee in shown)


@dataclass
class SearchHit:
    """A practitioner on the page, with the distance to their nearest location."""

    practitioner: PractitionerView
    distance_km: float
    location: LocationView


@dataclass
class SearchResult:
    """One page of results and the total count (a lower bound when count_exact is false)."""

    query: SearchQuery
    count: int
    hits: list[SearchHit]
    count_exact: bool = True

    @property
    def pages(self) -> int:
        """Number of pages."""
        return max(1, math.ceil(self.count / self.query.per_page))

    @property
    def past_last_page(self) -> bool:
        """The page asked for lies past the last page of results (page 1 never does)."""
        return self.query.page > 1 and not self.hits


@functools.cache
def _hit_statements():
    """The two queries that load what a page of results shows, built once."""
    prac, loc = Practitioner.__table__.c, PracticeLocation.__table__.c
    cert, body = Certification.__table__, CertifyingBody.__table__.c
    ids = bindparam("ids", expanding=True)
    practitioners = select(
        prac.id,
        prac.display_name,
        prac.practice_name,
        prac.accepting_new_patients,
        prac.phone,
        prac.session_minutes,
        prac.fee_min,
        prac.fee_max,
        prac.currency,
        prac.languages,
        prac.wheelchair_accessible,
        prac.gender,
        prac.photo_path,
        loc.condition_bits,
        loc.id.label("location_id"),
        loc.city,
        loc.region,
        loc.country,
        loc.latitude,
        loc.longitude,
    ).join_from(Practitioner.__table__, PracticeLocation.__table__, loc.practitioner_id == prac.id)
    certifications = (
        select(
            cert.c.practitioner_id,
            body.slug,
            body.name,
            cert.c.credential,
            cert.c.status,
            cert.c.verified_at,
            cert.c.expires_on,
            # The model's rules, with today bound at each run (the statement outlives a day).
            Certification.verified_on(bindparam("today", type_=Date)).label("current"),
            Certification.expired_on(bindparam("today", type_=Date)).label("expired"),
        )
        .join_from(cert, CertifyingBody.__table__, body.id == cert.c.body_id)
        .where(cert.c.practitioner_id.in_(ids))
        .order_by(cert.c.id)
    )
    return practitioners.where(prac.id.in_(ids)), certifications


def load_hits(query: SearchQuery, rows) -> list[SearchHit]:
    """Load what the shown rows (pid, distance) display with two plain queries: no ORM objects.

    The conditions come from the locations' condition bits (kept equal to the practitioner's
    conditions by the flush hook), the nearest location is picked here with the SQL's formula.
    """
    if not rows:
        return []
    ids = [row.pid for row in rows]
    practitioners_sql, certifications_sql = _hit_statements()
    conditions = taxonomy()
    views: dict[int, PractitionerView] = {}
    nearest: dict[int, tuple[float, LocationView]] = {}
    for r in db.session.execute(practitioners_sql, {"ids": ids}):
        if r.id not in views:
            views[r.id] = PractitionerView(
                r.id,
                r.display_name,
                r.practice_name,
                r.accepting_new_patients,
                [c for c in conditions if r.condition_bits & c.mask],
                phone=(r.phone or "").strip(),
                session_minutes=r.session_minutes,
                fee_min=r.fee_min,
                fee_max=r.fee_max,
                currency=r.currency or "",
                languages=[name.strip() for name in (r.languages or "").split(",") if name.strip()],
                wheelchair_accessible=bool(r.wheelchair_accessible),
                gender=r.gender,
                photo_path=r.photo_path,
            )
        km = great_circle_km(query.latitude, query.longitude, r.latitude, r.longitude)
        if r.id not in nearest or km < nearest[r.id][0]:
            nearest[r.id] = (km, LocationView(r.location_id, r.city, r.region, r.country, r.latitude, r.longitude))
    for r in db.session.execute(certifications_sql, {"ids": ids, "today": today()}):
        views[r.practitioner_id].certifications.append(
            CertificationView(
                BodyView(r.slug, r.name),
                r.credential,
                VerificationStatus(r.status),
                r.verified_at,
                r.expires_on,
                bool(r.current),
                bool(r.expired),
            )
        )
    return [
        SearchHit(practitioner=views[row.pid], distance_km=float(row.distance), location=nearest[row.pid][1])
        for row in rows
    ]
