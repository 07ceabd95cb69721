"""Who sees what: the parties of a referral, the lists each user may see, and their counts.

A referral is seen by its referring provider, by its receiving practitioner once it has been
sent, and by admins; nobody else learns that it exists.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
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


def visible_referrals(user: User, status: str | None = None) -> Select:
    """The referrals a user may list: sent (provider), received (practitioner) or all (admin).

    Newest first, with what a list shows (referrer, conditions, timeline) loaded in a fixed
    number of statements whatever the number of rows.
    """
    return _visible(user, status).options(*LIST_LOADS).order_by(Referral.created_at.desc(), Referral.id.desc())


def _visible(user: User, status: str | None = None) -> Select:
    """The filter of visible_referrals, without order or loading: for counts."""
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
    if status:
        stmt = stmt.where(Referral.status == status)
    return stmt


# --- Lists for dashboards --------------------------------------------------------------------


def is_overdue(referral: Referral, now: datetime | None = None) -> bool:
    """True when the referral waited more than 3 working days to be opened."""
    return workflow.is_overdue(referral.status, referral.created_at, now or utcnow())


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
