"""Corrections, concerns and confirmations: record, decide, remind. Functions flush; callers commit.

Emails never carry what a visitor wrote about a practitioner to anyone but the practitioner
(corrections) or the admins (concerns), and a visitor's address only when they agreed to share it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select

from directory import mail
from directory.admin.notices import notify_practitioner
from directory.audit import record_audit
from directory.claims.service import submit_texts
from directory.extensions import db
from directory.feedback.fields import CORRECTABLE, SCREENED, label
from directory.models import Concern, ConcernKind, Correction, CorrectionStatus, Practitioner, Role, User
from directory.models.base import as_utc, utcnow
from directory.models.practitioners import DETAILS_STALE_AFTER
from directory.practitioners.rules import FieldError

# An unanswered correction reaches the admins after this long.
ESCALATE_AFTER = timedelta(days=14)
# A practitioner is reminded to confirm their details this long after the last confirmation
# (or, never confirmed, after the profile was created); the profile says its details may be
# out of date after STALE_AFTER.
REMIND_AFTER = timedelta(days=365)
STALE_AFTER = DETAILS_STALE_AFTER  # 15 months


def _admin_addresses() -> list[str]:
    return list(
        db.session.execute(
            select(User.email).where(User.role == Role.ADMIN, User.disabled.is_(False)).order_by(User.id)
        ).scalars()
    )


def record_correction(
    practitioner: Practitioner, field: str, suggestion: str, email: str, share_email: bool
) -> Correction:
    """Store a visitor's correction and tell the practitioner (with the sender's address only if shared)."""
    correction = Correction(
        practitioner=practitioner,
        field=field,
        suggestion=suggestion,
        email=email or "",
        share_email=bool(share_email and email),
    )
    db.session.add(correction)
    db.session.flush()
    notify_practitioner(
        practitioner,
        "Someone suggested a correction to your profile",
        "correction_suggested",
        detail=label(field),
        suggestion=suggestion,
        sender=correction.email if correction.share_email else "",
        corrections_url=mail.site_url("feedback.corrections"),
    )
    return correction


def record_concern(practitioner: Practitioner, kind: ConcernKind, details: str, email: str) -> Concern:
    """Store a concern; the admins are told that there is one (what it says stays on the site)."""
    concern = Concern(practitioner=practitioner, kind=kind, details=details, email=email or "")
    db.session.add(concern)
    db.session.flush()
    for address in _admin_addresses():
        mail.queue_mail(
            address,
            "A concern was reported about a listing",
            "concern_reported",
            practitioner_name=practitioner.display_name,
            kind=kind.value.replace("-", " "),
            concerns_url=mail.site_url("admin.concerns"),
        )
    return concern


def accept_correction(correction: Correction, actor) -> bool:
    """Accept: apply the suggested value through the detail's rule (and screening); True when applied.

    Raises FieldError when the suggested value breaks the rule (nothing is changed then).
    Details without a rule are accepted for the practitioner to change in the editor (False).
    """
    practitioner = correction.practitioner
    _label, rule = CORRECTABLE.get(correction.field, ("", None))
    applied = False
    if rule is not None:
        value = rule(correction.suggestion)
        if correction.field in SCREENED:
            submit_texts(practitioner, {correction.field: value}, actor)
        else:
            setattr(practitioner, correction.field, value)
        applied = True
    _decide(correction, CorrectionStatus.ACCEPTED, actor)
    return applied


def open_corrections(practitioner: Practitioner) -> int:
    """How many suggested corrections await the practitioner's answer."""
    return db.session.execute(
        select(func.count(Correction.id)).where(
            Correction.practitioner_id == practitioner.id, Correction.status == CorrectionStatus.OPEN
        )
    ).scalar_one()


def dismiss_correction(correction: Correction, actor) -> None:
    """The practitioner says the listing is right as it is."""
    _decide(correction, CorrectionStatus.DISMISSED, actor)


def _decide(correction: Correction, status: CorrectionStatus, actor) -> None:
    if correction.status != CorrectionStatus.OPEN:
        raise FieldError("This suggestion was already answered.")
    correction.status = status
    correction.decided_at = utcnow()
    db.session.flush()
    record_audit(actor, f"correction.{status.value}", correction, after={"field": correction.field})


def close_concern(concern: Concern, admin, note: str) -> None:
    """An admin closes a concern with a note of what was done."""
    concern.closed_at = utcnow()
    concern.closed_by = admin
    concern.admin_note = note
    db.session.flush()
    record_audit(admin, "concern.closed", concern, after={"note": note})


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min).replace(tzinfo=utcnow().tzinfo)


def escalate_unanswered(today: date) -> int:
    """Tell the admins, once, of each correction still open 14 days after it was sent."""
    due = (
        db.session.execute(
            select(Correction).where(
                Correction.status == CorrectionStatus.OPEN,
                Correction.escalated_at.is_(None),
                Correction.created_at < _start_of(today) - ESCALATE_AFTER + timedelta(days=1),
            )
        )
        .scalars()
        .all()
    )
    if due:
        for address in _admin_addresses():
            mail.queue_mail(
                address,
                f"{len(due)} suggested correction(s) unanswered for 14 days",
                "corrections_unanswered",
                count=len(due),
                corrections_url=mail.site_url("admin.corrections"),
            )
    for correction in due:
        correction.escalated_at = utcnow()
    db.session.flush()
    return len(due)


def confirm_details(practitioner: Practitioner, actor) -> None:
    """The practitioner says their details are current."""
    practitioner.details_confirmed_at = utcnow()
    db.session.flush()
    record_audit(actor, "profile.details_confirmed", practitioner)


def confirmed_basis(practitioner: Practitioner) -> datetime:
    """When the details were last known current: the last confirmation, else the profile's creation."""
    return as_utc(practitioner.details_confirmed_at or practitioner.created_at)


def details_may_be_stale(practitioner: Practitioner, today: date) -> bool:
    """15 months without a confirmation: the profile says its details may be out of date."""
    return confirmed_basis(practitioner) < _start_of(today) - STALE_AFTER


def remind_unconfirmed(today: date) -> int:
    """Remind, once per confirmation period, owners of listed profiles unconfirmed for 12 months."""
    basis = func.coalesce(Practitioner.details_confirmed_at, Practitioner.created_at)
    cutoff = _start_of(today) - REMIND_AFTER + timedelta(days=1)
    due = (
        db.session.execute(
            select(Practitioner)
            .where(
                Practitioner.published.is_(True),
                Practitioner.suspended.is_(False),
                basis < cutoff,
                or_(
                    Practitioner.confirmation_reminded_at.is_(None), and_(Practitioner.confirmation_reminded_at < basis)
                ),
            )
            .order_by(Practitioner.id)
        )
        .scalars()
        .all()
    )
    for practitioner in due:
        notify_practitioner(
            practitioner,
            "Are your details on CST Directory still right?",
            "details_confirmation_reminder",
            confirm_url=mail.site_url("practitioners.dashboard"),
        )
        practitioner.confirmation_reminded_at = utcnow()
    db.session.flush()
    return len(due)
