"""Sending a referral: what a provider fills in, the one rule for when it may be sent, drafts.

The referral form, a draft's "Send" button, the API and the `requested` move all ask
sending_problems(), so a referral is accepted or refused for the same reasons everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

from directory.extensions import db
from directory.models import Condition, Practitioner, Referral, User
from directory.models.base import utcnow
from directory.referrals import workflow
from directory.referrals.access import party_of
from directory.referrals.errors import IllegalMove, InvalidReferral, NotYourMove
from directory.referrals.notices import notify
from directory.referrals.timeline import record_event
from directory.referrals.workflow import RECIPIENT, REFERRER, URGENCIES

CONTACT_METHODS = ("phone", "email")
NOT_VERIFIED = "Your account has not been verified yet: you can save drafts until it is."


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


def _apply_input(referral: Referral, data: ReferralInput) -> None:
    """Copy the input onto the referral, trimmed, with the practitioner's name at this moment."""
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
    """True when the text has more than white space."""
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
        record_event(referral, referrer, workflow.REQUESTED, "")
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


def confirm_consent(referral: Referral, user: User) -> Referral:
    """Record on a draft that the patient consented to share their details (its author only)."""
    if party_of(user, referral) != REFERRER:
        raise NotYourMove("Only the author of a draft can confirm the patient's consent.")
    if referral.status != workflow.DRAFT:
        raise IllegalMove("This referral has been sent: the patient's consent was confirmed when it was sent.")
    referral.consent = True
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
