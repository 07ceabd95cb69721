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
from directory.referrals import appointments, workflow
from directory.referrals.access import can_see, party_of
from directory.referrals.errors import ChangedMeanwhile, IllegalMove, InvalidReferral, NotYourMove
from directory.referrals.notices import notify
from directory.referrals.outcome import Outcome, outcome_problems, record_outcome
from directory.referrals.sending import check_ready_to_send
from directory.referrals.timeline import record_event
from directory.referrals.workflow import RECIPIENT, REFERRER
from directory.webhooks import service as webhooks

# The statuses whose note the referral keeps as `status_note` while in them (a rejection's is
# `rejection_reason`, a completion's is `outcome`).
NOTE_KEPT_BY = frozenset({workflow.ON_HOLD, workflow.FAILED, workflow.ENTERED_IN_ERROR, workflow.CANCELLED})


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
    location_id: int | None = None,
    reason: str = "",
    outcome: Outcome | None = None,
    expected_version: int | None = None,
) -> Referral:
    """Make one move of the transition table, with its event and email, or raise why not.

    `appointment_at` (aware, or naive for local time at the location) and `location_id` book
    the first appointment, or name the one a no-show concerns; `reason` is a failure's code;
    `outcome` is what completing records besides the note.
    """
    note = (note or "").strip()
    move = _check_move(referral, user, target, note, appointment_at, reason, outcome, expected_version)
    if target == workflow.REQUESTED and move.source == workflow.DRAFT:
        check_ready_to_send(referral, user)
    missed = None
    if target == workflow.NO_SHOW:
        missed = _missed_appointment(referral, appointment_at, location_id)
    elif workflow.APPOINTMENT in move.needs:
        appointments.book(referral, appointment_at, location_id)
    _apply(referral, move, note, reason, outcome)
    event_note = f"{workflow.FAILURE_REASONS[reason]}. {note}".strip() if target == workflow.FAILED else note
    try:
        # Any flush from here on (autoflush included) may find that someone else moved first.
        if target == workflow.NO_SHOW:
            record_event(referral, user, referral.status, note, kind=workflow.NO_SHOW, appointment_at=missed)
        else:
            record_event(referral, user, target, event_note)
        kind = {workflow.REQUESTED: "new", workflow.NO_SHOW: "no_show"}.get(target, "status")
        notify(referral, RECIPIENT if move.party == REFERRER else REFERRER, kind)
        db.session.flush()
    except StaleDataError:
        # The failed flush has already rolled the database transaction back; the session must
        # be told so before anyone (the error page included) can use it again.
        db.session.rollback()
        raise ChangedMeanwhile(
            "Someone else changed this referral at the same moment. Please reload and try again."
        ) from None
    # The referrer's systems are told, in this same transaction (delivered after the commit).
    webhooks.referral_moved(referral, move.source)
    return referral


def _apply(referral: Referral, move: workflow.Move, note: str, reason: str, outcome: Outcome | None) -> None:
    """Change the referral as the move says (its status, and what the new status keeps)."""
    target = move.target
    if target == workflow.NO_SHOW:
        referral.no_shows = (referral.no_shows or 0) + 1
        return
    if target == workflow.REQUESTED and move.source == workflow.DRAFT:
        referral.created_at = utcnow()
    if target == workflow.REJECTED:
        referral.rejection_reason = note
    elif target == workflow.COMPLETED:
        referral.outcome = note
        record_outcome(referral, outcome)
    referral.held_from = referral.status if target == workflow.ON_HOLD else ""
    referral.status_reason = reason if target == workflow.FAILED else ""
    referral.status_note = note if target in NOTE_KEPT_BY else ""
    referral.status = target


def _missed_appointment(referral: Referral, appointment_at: datetime | None, location_id: int | None) -> datetime:
    """The appointment a no-show concerns, in UTC: the one given, else the booked one; never a future one."""
    if appointment_at is None:
        missed = referral.appointment_at
    elif appointment_at.tzinfo is not None:
        missed = appointment_at
    elif location_id is None and referral.appointment_time_zone:
        missed = appointments.to_utc(appointment_at, referral.appointment_time_zone)
    else:
        missed = appointments.to_utc(appointment_at, appointments.choose_location(referral, location_id).time_zone)
    if missed is None:
        raise InvalidReferral("Give the date and time of the appointment the patient missed.")
    if workflow.as_utc(missed) > utcnow():
        raise InvalidReferral("A no-show can only be recorded once the appointment's time has passed.")
    return workflow.as_utc(missed)


def _check_move(
    referral: Referral,
    user: User,
    target: str,
    note: str,
    appointment_at: datetime | None,
    reason: str,
    outcome: Outcome | None,
    expected_version: int | None,
) -> workflow.Move:
    """The move when it is legal and has what it needs; raise why not otherwise."""
    if target not in workflow.STATUSES and target not in workflow.ACTIONS:
        raise InvalidReferral(f"Unknown status {target!r}; one of: {', '.join(workflow.STATUSES + workflow.ACTIONS)}.")
    party = party_of(user, referral)
    if party not in workflow.parties_moving_to(target):
        raise NotYourMove(f"You cannot move a referral to {target!r}.")
    if expected_version is not None and expected_version != referral.version:
        raise ChangedMeanwhile("This referral changed since you opened it. Please reload and try again.")
    move = workflow.find_move(referral.status, target, party)
    if move is None:
        raise IllegalMove(f"A referral that is {referral.status!r} cannot become {target!r}.")
    if move.resumes and referral.held_from != target:
        raise IllegalMove(f"This referral was put on hold while {referral.held_from!r}: it can only go back to that.")
    if workflow.NOTE in move.needs and not note:
        raise InvalidReferral(f"{move.note_label} is required.")
    if workflow.APPOINTMENT in move.needs and appointment_at is None:
        raise InvalidReferral("The date and time of the first appointment is required.")
    if workflow.REASON in move.needs:
        _check_failure(referral, reason, note)
    if workflow.OUTCOME in move.needs:
        if referral.appointment_at is not None and workflow.as_utc(referral.appointment_at) > utcnow():
            raise IllegalMove(
                f"The first appointment ({appointments.appointment_text(referral)}) has not happened yet: "
                "a referral can be completed only after it."
            )
        problems = outcome_problems(outcome)
        if problems:
            raise InvalidReferral(next(iter(problems.values())))
    return move


def _check_failure(referral: Referral, reason: str, note: str) -> None:
    """A failure needs a reason of the list; "other" needs a note, "no-show" two recorded no-shows."""
    if reason not in workflow.FAILURE_REASONS:
        raise InvalidReferral(f"reason must be one of: {', '.join(workflow.FAILURE_REASONS)}.")
    if reason == "other" and not note:
        raise InvalidReferral("Please say in the note why the referral ended.")
    if reason == workflow.NO_SHOW and (referral.no_shows or 0) < workflow.NO_SHOWS_BEFORE_FAILING:
        raise IllegalMove(
            f"A referral ends for no-shows after {workflow.NO_SHOWS_BEFORE_FAILING} recorded no-shows "
            f"({referral.no_shows or 0} so far)."
        )


def make_move(
    referral: Referral, user: User, target: str, *, expected_version: int | None = None, **details
) -> Referral:
    """One move asked for by a page or the API: open the referral first, then apply the move.

    Any request by the recipient about a `requested` referral opens it (`received`); when that
    open was itself the move asked for, nothing more happens. The caller's version is compared
    only when nothing changed the referral in between (our own open just bumped it). `details`
    are transition()'s keywords (note, appointment_at, location_id, reason, outcome).
    """
    opened_now = open_referral(referral, user)
    if target == workflow.RECEIVED and opened_now:
        return referral
    return transition(referral, user, target, expected_version=None if opened_now else expected_version, **details)
