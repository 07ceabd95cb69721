"""Who sees what: the parties of a referral, the lists each user may see, and their counts.

A referral is seen by its referring provider, by its receiving practitioner once it has been
sent, and by admins; nobody else learns that it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import selectinload

from directory.extensions import db
from directory.models import Referral, User
from directory.models.base import utcnow
from directory.referrals import workflow
from directory.referrals.workflow import RECIPIENT, REFERRER

# What a list of referrals shows (the pages and the API): loaded with the rows, not row by row.
LIST_LOADS = (selectinload(Referral.referrer), selectinload(Referral.conditions), selectinload(Referral.events))


def party_of(user: User | None, referral: Referral) -> str | None:
    """ "referrer", "recipient" or None (admins and strangers are no party)."""
    if user is None or not user.is_authenticated:
        return None
    if user.is_provider and referral.referrer_id == user.id:
        return REFERRER
    practitioner = user.practitioner if user.is_practitioner else None
    if (
        practitioner is not None
        and referral.practitioner_id == practitioner.id
        and referral.status not in workflow.HIDDEN_FROM_RECIPIENT
    ):
        return RECIPIENT
    return None


def can_see(user: User | None, referral: Referral) -> bool:
    """Only the referring provider, the receiving practitioner and admins see a referral."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_admin or party_of(user, referral) is not None


@dataclass(frozen=True)
class ReferralFilter:
    """What a list of referrals is narrowed to; `since` and `until` (inclusive) bound the day sent."""

    status: str | None = None
    practitioner_id: int | None = None
    urgency: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def visible_referrals(
    user: User,
    status: str | ReferralFilter | None = None,
    *,
    overdue_first: bool = False,
    oldest_first: bool = False,
) -> Select:
    """The referrals a user may list: sent (provider), received (practitioner) or all (admin).

    Newest first (or oldest; the overdue ones before the rest when asked), with what a list shows
    (referrer, conditions, timeline) loaded in a fixed number of statements whatever the
    number of rows.
    """
    filters = status if isinstance(status, ReferralFilter) else ReferralFilter(status=status)
    order = [Referral.created_at, Referral.id] if oldest_first else [Referral.created_at.desc(), Referral.id.desc()]
    if overdue_first:
        late = overdue_ids(user, filters)
        if late:
            order.insert(0, case((Referral.id.in_(late), 0), else_=1))
    return _visible(user, filters).options(*LIST_LOADS).order_by(*order)


def overdue_ids(user: User, filters: ReferralFilter | None = None) -> set[int]:
    """The ids of the overdue referrals among those the user may list (only waiting statuses are read)."""
    stmt = _visible(user, filters).where(Referral.status.in_(workflow.OVERDUE_WORKING_DAYS))
    candidates = db.session.execute(stmt.options(selectinload(Referral.events))).scalars().all()
    now = utcnow()
    return {r.id for r in candidates if is_overdue(r, now)}


def _visible(user: User, filters: str | ReferralFilter | None = None) -> Select:
    """The filter of visible_referrals, without order or loading: for counts."""
    if not isinstance(filters, ReferralFilter):
        filters = ReferralFilter(status=filters)
    stmt = select(Referral)
    if user.is_admin:
        pass
    elif user.is_provider:
        stmt = stmt.where(Referral.referrer_id == user.id)
    elif user.is_practitioner and user.practitioner is not None:
        stmt = stmt.where(
            Referral.practitioner_id == user.practitioner.id,
            Referral.status.not_in(workflow.HIDDEN_FROM_RECIPIENT),
        )
    else:
        stmt = stmt.where(False)
    if filters.status:
        stmt = stmt.where(Referral.status == filters.status)
    if filters.practitioner_id is not None:
        stmt = stmt.where(Referral.practitioner_id == filters.practitioner_id)
    if filters.urgency:
        stmt = stmt.where(Referral.urgency == filters.urgency)
    if filters.since is not None:
        stmt = stmt.where(Referral.created_at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(Referral.created_at <= filters.until)
    return stmt


def practitioners_referred_to(user: User) -> list[tuple[int, str]]:
    """(id, name) of each practitioner among the referrals the user may list, for the list's filter."""
    sub = _visible(user).where(Referral.practitioner_id.is_not(None)).subquery()
    rows = db.session.execute(
        select(sub.c.practitioner_id, func.max(sub.c.practitioner_name)).group_by(sub.c.practitioner_id)
    ).all()
    return sorted(((pid, name) for pid, name in rows), key=lambda row: row[1].lower())


# --- Lists for dashboards --------------------------------------------------------------------


def is_overdue(referral: Referral, now: datetime | None = None) -> bool:
    """True when the referral waited too long: 3 working days unopened, 10 accepted without an appointment."""
    return workflow.is_overdue(referral.status, waiting_since(referral), now or utcnow())


def waiting_since(referral: Referral) -> datetime | None:
    """When the referral last entered its status: sent for `requested`, else its latest event to it."""
    if referral.status == workflow.REQUESTED:
        return referral.created_at
    for event in reversed(referral.events):
        if event.status == referral.status and not event.kind:
            return event.at
    return None


def overdue_label(referral: Referral) -> str:
    """Why an overdue referral is overdue, for its badge."""
    return workflow.OVERDUE_LABELS.get(referral.status, "Overdue")


def counts_by_status(user: User) -> dict[str, int]:
    """How many referrals of each status the user may list."""
    sub = _visible(user).subquery()
    rows = db.session.execute(select(sub.c.status, func.count()).group_by(sub.c.status)).all()
    return {status: count for status, count in rows}


def practitioner_inbox(user: User) -> dict:
    """New referrals for a practitioner's dashboard: the `requested` ones, oldest first."""
    new = []
    if user.is_authenticated and user.is_practitioner:
        stmt = _visible(user, workflow.REQUESTED).order_by(Referral.created_at, Referral.id)
        new = db.session.execute(stmt).scalars().all()
    now = utcnow()
    return {
        "new": new,
        "new_count": len(new),
        "overdue_count": sum(1 for r in new if is_overdue(r, now)),
        "overdue_ids": {r.id for r in new if is_overdue(r, now)},
    }
