"""Opening a referral and moving it: one move of the transition table with its event and email.

The pages and the API both call make_move(); get_referral_or_404() is the one lookup that
checks the caller (and, for the recipient, opens a `requested` referral).
"""

from __future__ import annotations

from datetime import datetime

from flask import abort
from sqlalchemy.orm.exc import StaleDataError

from directory.audit import record_audit
from directory.extensions import db
from directory.models import Referral, User
from directory.models.base import utcnow
from directory.referrals import workflow
from directory.referrals.access import can_see, party_of
from directory.referrals.errors import ChangedMeanwhile, IllegalMove, InvalidReferral, NotYourMove
from directory.referrals.notices import notify
from directory.referrals.sending import check_ready_to_send
from directory.referrals.timeline import record_event
from directory.referrals.workflow import RECIPIENT, REFERRER


def get_referral_or_404(referral_id: int, user: User | None, *, mark_read: bool = True) -> Referral:
    """The referral if the user may see it (404 otherwise); opening it has its effects.

    The recipient's first look moves `requested` to `received`; an admin's look is audited.
    Both land in the session: the calling view commits them (also when it then refuses).
    """
    referral = db.session.get(Referral, referral_id)
    if referral is None or not can_see(user, referral):
        abort(404)
    if user.is_admin:
        record_audit(user, "referral.opened", referral, object_type="referral", object_id=referral.id)
    elif mark_read:
        open_referral(referral, user)
    return referral


def open_referral(referral: Referral, user: User) -> bool:
    """Mark a `requested` referral `received` when its recipient opens it; True if this did it."""
    if referral.status != workflow.REQUESTED or party_of(user, referral) != RECIPIENT:
        return False
    try:
        transition(referral, user, workflow.RECEIVED)
    except ChangedMeanwhile:
        # Opened at the same moment elsewhere (another tab, the API): that is fine.
        db.session.refresh(referral)
        return False
    return True


def transition(
    referral: Referral,
    user: User,
    target: str,
    *,
    note: str = "",
    appointment_at: datetime | None = None,
    expected_version: int | None = None,
) -> Referral:
    """Make one move of the transition table, with its event and email, or raise why not."""
    note = (note or "").strip()
    party = _check_move(referral, user, target, note, appointment_at, expected_version)
    if target == workflow.REQUESTED:
        check_ready_to_send(referral, user)
        referral.created_at = utcnow()
    if target == workflow.REJECTED:
        referral.rejection_reason = note
    elif target == workflow.COMPLETED:
        referral.outcome = note
    elif target == workflow.IN_PROGRESS:
        referral.appointment_at = workflow.as_utc(appointment_at)
    referral.status = target
    try:
        # Any flush from here on (autoflush included) may find that someone else moved first.
        record_event(referral, user, target, note)
        notify(
            referral, RECIPIENT if party == REFERRER else REFERRER, "new" if target == workflow.REQUESTED else "status"
        )
        db.session.flush()
    except StaleDataError:
        # The failed flush has already rolled the database transaction back; the session must
        # be told so before anyone (the error page included) can use it again.
        db.session.rollback()
        raise ChangedMeanwhile(
            "Someone else changed this referral at the same moment. Please reload and try again."
        ) from None
    return referral


def _check_move(
    referral: Referral,
    user: User,
    target: str,
    note: str,
    appointment_at: datetime | None,
    expected_version: int | None,
) -> str:
    """The caller's party when the move is legal and has what it needs; raise why not otherwise."""
    if target not in workflow.STATUSES:
        raise InvalidReferral(f"Unknown status {target!r}; one of: {', '.join(workflow.STATUSES)}.")
    party = party_of(user, referral)
    if party not in workflow.parties_moving_to(target):
        raise NotYourMove(f"You cannot move a referral to {target!r}.")
    if expected_version is not None and expected_version != referral.version:
        raise ChangedMeanwhile("This referral changed since you opened it. Please reload and try again.")
    move = workflow.find_move(referral.status, target)
    if move is None or move.party != party:
        raise IllegalMove(f"A referral that is {referral.status!r} cannot become {target!r}.")
    if workflow.NOTE in move.needs and not note:
        raise InvalidReferral(f"{move.note_label} is required.")
    if workflow.APPOINTMENT in move.needs and appointment_at is None:
        raise InvalidReferral("The date and time of the first appointment is required.")
    return party


def make_move(
    referral: Referral,
    user: User,
    target: str,
    *,
    note: str = "",
    appointment_at: datetime | None = None,
    expected_version: int | None = None,
) -> Referral:
    """One move asked for by a page or the API: open the referral first, then apply the move.

    Any request by the recipient about a `requested` referral opens it (`received`); when that
    open was itself the move asked for, nothing more happens. The caller's version is compared
    only when nothing changed the referral in between (our own open just bumped it).
    """
    opened_now = open_referral(referral, user)
    if target == workflow.RECEIVED and opened_now:
        return referral
    return transition(
        referral,
        user,
        target,
        note=note,
        appointment_at=appointment_at,
        expected_version=None if opened_now else expected_version,
    )
