"""Emails about referrals: who is told, with what subject, and the link they get.

Messages say that something changed and link to the referral's page; they never carry
patient details. They are queued in the caller's transaction (the outbox).
"""

from __future__ import annotations

from directory.mail import queue_mail, site_url
from directory.models import Referral
from directory.referrals import workflow
from directory.referrals.workflow import REFERRER, URGENCY_LABELS

SUBJECTS = {
    "new": "New referral #{id} on CST Directory",
    "status": "Referral #{id} is now {status}",
    "message": "New message about referral #{id}",
    "no_show": "A missed appointment was recorded on referral #{id}",
}


def email_of(referral: Referral, party: str) -> str | None:
    """Where to write to a party: the referrer's account, else the practitioner's account or profile."""
    if party == REFERRER:
        return referral.referrer.email if referral.referrer is not None else None
    practitioner = referral.practitioner
    if practitioner is None:
        return None
    return practitioner.user.email if practitioner.user is not None else practitioner.email


def notify(referral: Referral, party: str, kind: str) -> None:
    """Queue an email to one party: something changed, with a link; never patient details."""
    recipient = email_of(referral, party)
    if not recipient:
        return
    status = workflow.STATUS_LABELS[referral.status].lower()
    queue_mail(
        recipient,
        SUBJECTS[kind].format(id=referral.id, status=status),
        f"referral_{kind}",
        referral_id=referral.id,
        status=status,
        urgency=URGENCY_LABELS.get(referral.urgency, referral.urgency),
        link=site_url("referrals.detail", referral_id=referral.id),
    )
