"""Referral domain functions: who sees what, sending, moving, messages and notifications.

Nothing here reads the request: views and the API parse input, call these, and render.
Nothing here commits either: each function changes and flushes, and the request (or the CLI
command) commits once at its end, so a move, its timeline entry and its notification email
exist together or not at all. A refusal (ReferralError) is raised before anything changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace

from flask import abort
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from directory.audit import record_audit
from directory.extensions import db
from directory.models import Condition, Practitioner, Referral, ReferralEvent, ReferralMessage, User
from directory.models.base import utcnow
from directory.referrals import workflow
from directory.referrals.notices import notify
from directory.referrals.workflow import (
    RECIPIENT,
    REFERRER,
    URGENCIES,
    URGENCY_LABELS,  # noqa: F401  (the API reads it here)
)

CONTACT_METHODS = ("phone", "email")
NOT_VERIFIED = "Your account has not been verified yet: you can save drafts until it is."
# What a list of referrals shows (the pages and the API): loaded with the rows, not row by row.
LIST_LOADS = (selectinload(Referral.referrer), selectinload(Referral.conditions), selectinload(Referral.events))


class ReferralError(Exception):
    """A request about a referral that cannot be done; `status` is the HTTP answer."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidReferral(ReferralError):
    """Missing or bad input: 400."""

    status = 400


class NotYourMove(ReferralError):
    """The caller is not the party who may make this move: 403."""

    status = 403


class IllegalMove(ReferralError):
    """The move is not legal from the current status: 409."""

    status = 409


class ChangedMeanwhile(ReferralError):
    """Someone else changed the referral first: 409, reload and try again."""

    status = 409


@dataclass
class ReferralInput:
    """What a provider fills in; the same for the form and the API."""

    practitioner: Practitioner
    patient_name: str
    reason: str = ""
    patient_phone: str = ""
    patient_email: str = ""
    patient_birth_date: date | None = None
    conditions: list[Condition] = field(default_factory=list)
    clinical_notes: str = ""
    urgency: str = "routine"
    preferred_contact: str = "phone"
    consent: bool = False


# --- Who may see and act ---------------------------------------------------------------------


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


# --- Sending ---------------------------------------------------------------------------------


def _apply_input(referral: Referral, data: ReferralInput) -> None:
    referral.practitioner = data.practitioner
    referral.practitioner_name = data.practitioner.display_name
    referral.patient_name = data.patient_name.strip()
    referral.patient_phone = data.patient_phone.strip()
    referral.patient_email = data.patient_email.strip()
    referral.patient_birth_date = data.patient_birth_date
    referral.conditions = list(data.conditions)
    referral.reason = data.reason.strip()
    referral.clinical_notes = data.clinical_notes.strip()
    referral.urgency = data.urgency
    referral.preferred_contact = data.preferred_contact
    referral.consent = bool(data.consent)


def sending_problems(referral: Referral | ReferralInput | SimpleNamespace, sender: User | None = None) -> dict:
    """Why a referral (or the input for one) may not be sent yet: {field: message}; empty if it may.

    The one rule behind the referral form, the draft's "Send" button and the API: a patient
    name, a phone or an email, a reason, the patient's consent, a listed recipient, a known
    urgency, and (when `sender` is given) a verified sender. Keys are the form's field names,
    plus "practitioner" and "sender".
    """
    problems = {}
    if sender is not None and not sender.can_refer:
        problems["sender"] = NOT_VERIFIED
    if not _filled(referral.patient_name):
        problems["patient_name"] = "The patient's name is required."
    if not _filled(referral.patient_phone) and not _filled(referral.patient_email):
        problems["patient_phone"] = "Give the patient's phone or email (or both)."
    if not _filled(referral.reason):
        problems["reason"] = "Please say why you refer this patient."
    if not referral.consent:
        problems["consent"] = "Please confirm the patient's consent before sending."
    if referral.practitioner is None or not referral.practitioner.is_listed:
        problems["practitioner"] = "This practitioner is not listed any more."
    if referral.urgency not in URGENCIES:
        problems["urgency"] = "Urgency must be routine, urgent or asap."
    return problems


def _filled(text: str | None) -> bool:
    return bool((text or "").strip())


def check_ready_to_send(referral: Referral, sender: User) -> None:
    """Raise the first of sending_problems(): NotYourMove for the sender, InvalidReferral otherwise."""
    problems = sending_problems(referral, sender)
    if "sender" in problems:
        raise NotYourMove(problems["sender"])
    if problems:
        raise InvalidReferral(next(iter(problems.values())))


def create_referral(referrer: User, data: ReferralInput, *, draft: bool = False) -> Referral:
    """Save a new referral: sent at once (verified providers) or kept as a draft."""
    if not referrer.is_provider:
        raise NotYourMove("Only healthcare providers send referrals.")
    referral = Referral(
        referrer=referrer,
        referrer_name=referrer.display_name,
        status=workflow.DRAFT if draft else workflow.REQUESTED,
    )
    _apply_input(referral, data)
    if not draft:
        check_ready_to_send(referral, referrer)
        referral.created_at = utcnow()
        _record(referral, referrer, workflow.REQUESTED, "")
    db.session.add(referral)
    db.session.flush()
    if not draft:
        notify(referral, RECIPIENT, "new")
        db.session.flush()
    return referral


def update_draft(referral: Referral, user: User, data: ReferralInput) -> Referral:
    """Change a draft (its author only)."""
    if referral.status != workflow.DRAFT:
        raise IllegalMove("Only drafts can be edited; this referral has been sent.")
    if party_of(user, referral) != REFERRER:
        raise NotYourMove("Only the author of a draft can edit it.")
    _apply_input(referral, data)
    db.session.flush()
    return referral


def delete_draft(referral: Referral, user: User) -> None:
    """Throw a draft away (its author only); sent referrals are cancelled instead."""
    if party_of(user, referral) != REFERRER:
        raise NotYourMove("Only the author of a draft can delete it.")
    if referral.status != workflow.DRAFT:
        raise IllegalMove("Only drafts can be deleted; cancel a sent referral instead.")
    db.session.delete(referral)
    db.session.flush()


# --- Moving ----------------------------------------------------------------------------------


def _record(referral: Referral, actor: User, status: str, note: str) -> ReferralEvent:
    event = ReferralEvent(status=status, actor=actor, actor_name=actor.display_name, note=note, at=utcnow())
    referral.events.append(event)
    return event


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
    note = (note or "").strip()
    if workflow.NOTE in move.needs and not note:
        raise InvalidReferral(f"{move.note_label} is required.")
    if workflow.APPOINTMENT in move.needs and appointment_at is None:
        raise InvalidReferral("The date and time of the first appointment is required.")
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
        _record(referral, user, target, note)
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


def add_message(referral: Referral, user: User, body: str) -> ReferralMessage:
    """Post a message on a referral's thread (the two parties only) and tell the other one."""
    party = party_of(user, referral)
    if party is None:
        raise NotYourMove("Only the referring provider and the practitioner write on this thread.")
    if referral.status == workflow.DRAFT:
        raise IllegalMove("Send the referral before writing messages about it.")
    body = (body or "").strip()
    if not body:
        raise InvalidReferral("Please write a message.")
    message = ReferralMessage(author=user, author_name=user.display_name, body=body, created_at=utcnow())
    referral.messages.append(message)
    notify(referral, RECIPIENT if party == REFERRER else REFERRER, "message")
    db.session.flush()
    return message


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
