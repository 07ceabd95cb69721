"""What a referral's page shows under it: the event of each move and the two parties' messages."""

from __future__ import annotations

from directory.extensions import db
from directory.models import Referral, ReferralEvent, ReferralMessage, User
from directory.models.base import utcnow
from directory.referrals import workflow
from directory.referrals.access import party_of
from directory.referrals.errors import IllegalMove, InvalidReferral, NotYourMove
from directory.referrals.notices import notify
from directory.referrals.workflow import RECIPIENT, REFERRER


def record_event(
    referral: Referral, actor: User, status: str, note: str, *, kind: str = "", appointment_at=None
) -> ReferralEvent:
    """Add the timeline entry of a move (who, when, to which status, with which note).

    An action that keeps the status (a no-show) has its `kind`, and the appointment it concerns.
    """
    event = ReferralEvent(
        status=status,
        actor=actor,
        actor_name=actor.display_name,
        note=note,
        at=utcnow(),
        kind=kind,
        appointment_at=appointment_at,
    )
    referral.events.append(event)
    return event


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
    from directory.webhooks import service as webhooks  # the webhooks package imports the referrals package

    webhooks.message_added(referral)
    return message
