"""The credential queue: pending certifications, oldest first, filtered and read one page at a time.

Each page is one bounded query (LIMIT/OFFSET on the oldest-first order) and the count stops at
COUNT_LIMIT ("more than 10,000 waiting"), so nothing reads or loads the whole queue. The order
key is (created_at, id), so "the next one" is well defined.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from directory.extensions import db
from directory.models import Certification, Practitioner, VerificationStatus
from directory.models.base import utcnow

PER_PAGE = 50
# The page counts at most this many (a count of 100,000 filtered rows reads every one of them).
COUNT_LIMIT = 10_000
# "Waiting more than N days": the choices of the age filter.
AGE_CHOICES = (7, 30, 90)


@dataclass(frozen=True)
class QueueFilter:
    """Which pending credentials to show: by body, credential, age, evidence and name or email."""

    body_id: int | None = None
    credential: str = ""
    older_than_days: int | None = None
    has_evidence: bool | None = None
    search: str = ""

    def conditions(self) -> list:
        """The SQL conditions of this filter (pending only, always)."""
        where = [Certification.status == VerificationStatus.PENDING]
        if self.body_id is not None:
            where.append(Certification.body_id == self.body_id)
        if self.credential:
            where.append(Certification.credential == self.credential)
        if self.older_than_days is not None:
            where.append(Certification.created_at < utcnow() - timedelta(days=self.older_than_days))
        if self.has_evidence is not None:
            where.append(
                (Certification.evidence_path != "") if self.has_evidence else (Certification.evidence_path == "")
            )
        if self.search:
            # A subquery on the (small) matching practitioners, not a join over every pending row.
            matching = select(Practitioner.id).where(
                or_(
                    Practitioner.display_name.icontains(self.search, autoescape=True),
                    Practitioner.email.icontains(self.search, autoescape=True),
                )
            )
            where.append(Certification.practitioner_id.in_(matching))
        return where


@dataclass
class QueuePage:
    """One page of the queue, shaped like Flask-SQLAlchemy's pagination for the shared template.

    `total` is exact when `total_exact`; otherwise more than COUNT_LIMIT wait and `pages` is
    the pages known so far (this one, and the next if there is one).
    """

    items: list[Certification]
    page: int
    total: int
    total_exact: bool = True
    more: bool = False
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        """The number of pages (when the total is exact), else the pages known so far."""
        if self.total_exact:
            return max(1, -(-self.total // self.per_page))
        return self.page + self.more

    @property
    def has_prev(self) -> bool:
        """True when an earlier page exists."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """True when a later page exists."""
        return self.more

    @property
    def prev_num(self) -> int:
        """The number of the page before this one."""
        return self.page - 1

    @property
    def next_num(self) -> int:
        """The number of the page after this one."""
        return self.page + 1


def count_pending(queue: QueueFilter) -> int:
    """How many pending credentials the filter matches, counting no further than COUNT_LIMIT + 1."""
    matching = select(Certification.id).where(*queue.conditions()).limit(COUNT_LIMIT + 1).subquery()
    return db.session.execute(select(func.count()).select_from(matching)).scalar_one()


def queue_page(queue: QueueFilter, page: int = 1) -> QueuePage:
    """The page-th page of the filtered queue, oldest first (past a known end: the last page)."""
    counted = count_pending(queue)
    exact = counted <= COUNT_LIMIT
    if exact:
        page = min(page, max(1, -(-counted // PER_PAGE)))
    page = max(page, 1)
    # The page's ids first (one more, to know whether a next page exists): the sort then carries
    # two narrow columns, not every column of the joined rows; the 50 rows are loaded by id after.
    ids = (
        db.session.execute(
            select(Certification.id)
            .where(*queue.conditions())
            .order_by(Certification.created_at, Certification.id)
            .limit(PER_PAGE + 1)
            .offset((page - 1) * PER_PAGE)
        )
        .scalars()
        .all()
    )
    more, ids = len(ids) > PER_PAGE, ids[:PER_PAGE]
    rows = db.session.execute(
        select(Certification)
        .where(Certification.id.in_(ids))
        # The page shows each one's practitioner and body: loaded with the rows.
        .options(joinedload(Certification.practitioner), joinedload(Certification.body))
    ).scalars()
    by_id = {cert.id: cert for cert in rows}
    return QueuePage(
        items=[by_id[i] for i in ids], page=page, total=min(counted, COUNT_LIMIT), total_exact=exact, more=more
    )


def _after(cert: Certification):
    """SQL: later than `cert` in the queue's order."""
    return or_(
        Certification.created_at > cert.created_at,
        and_(Certification.created_at == cert.created_at, Certification.id > cert.id),
    )


def next_in_queue(queue: QueueFilter, after: Certification) -> tuple[int, int] | None:
    """(id, page) of the pending credential that comes after `after` in the filtered queue, or None."""
    following = db.session.execute(
        select(Certification.id, Certification.created_at)
        .where(*queue.conditions(), _after(after))
        .order_by(Certification.created_at, Certification.id)
        .limit(1)
    ).first()
    if following is None:
        return None
    cert_id, created_at = following
    before = db.session.execute(
        select(func.count())
        .select_from(Certification)
        .where(
            *queue.conditions(),
            or_(
                Certification.created_at < created_at,
                and_(Certification.created_at == created_at, Certification.id < cert_id),
            ),
        )
    ).scalar_one()
    return cert_id, before // PER_PAGE + 1
