"""Checking credentials and healthcare providers, and warning owners before credentials expire.

Functions here change the records, add the audit entry and queue the email in the caller's
transaction; the caller commits.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from directory.admin.notices import notify_practitioner, notify_user
from directory.audit import record_audit, snapshot
from directory.extensions import db
from directory.models import Certification, Role, User, VerificationStatus
from directory.models.accounts import ProviderStatus

CERT_FIELDS = ("status", "verification_source", "verification_note", "rejection_reason", "verified_at", "expires_on")
PROVIDER_FIELDS = ("provider_status", "provider_status_reason")
WARNING_DAYS = 30
# A notice missed because the job did not run on the day is still sent within this many days.
NOTICE_GRACE_DAYS = 7


class QueueError(Exception):
    """The record is no longer waiting for this decision."""


def pending_certifications() -> list[Certification]:
    """The credential queue: every pending certification, oldest first."""
    query = (
        select(Certification)
        .where(Certification.status == VerificationStatus.PENDING)
        # The queue page shows each one's practitioner and body: loaded with the rows.
        .options(joinedload(Certification.practitioner), joinedload(Certification.body))
        .order_by(Certification.created_at, Certification.id)
    )
    return db.session.execute(query).scalars().all()


def pending_providers() -> list[User]:
    """The provider queue: pending healthcare-provider accounts, oldest first."""
    query = (
        select(User)
        .where(User.role == Role.PROVIDER, User.provider_status == ProviderStatus.PENDING)
        .order_by(User.created_at, User.id)
    )
    return db.session.execute(query).scalars().all()


def verify_certification(cert: Certification, admin: User, method: str, note: str = "") -> None:
    """Mark a pending credential verified (how and by whom), audit it and tell the owner."""
    if cert.status != VerificationStatus.PENDING:
        raise QueueError("This credential is no longer waiting for verification.")
    before = snapshot(cert, *CERT_FIELDS)
    cert.mark_verified(method, by=admin, note=note.strip())
    record_audit(admin, "certification.verified", cert, before=before, after=snapshot(cert, *CERT_FIELDS))
    notify_practitioner(
        cert.practitioner, f"Your {cert.credential} credential is verified", "credential_verified", cert=cert
    )


def reject_certification(cert: Certification, admin: User, reason: str) -> None:
    """Reject a pending credential with a reason the owner reads; audit it and tell the owner."""
    if cert.status != VerificationStatus.PENDING:
        raise QueueError("This credential is no longer waiting for verification.")
    before = snapshot(cert, *CERT_FIELDS)
    cert.mark_rejected(reason.strip(), by=admin)
    record_audit(admin, "certification.rejected", cert, before=before, after=snapshot(cert, *CERT_FIELDS))
    notify_practitioner(
        cert.practitioner, f"We could not verify your {cert.credential} credential", "credential_rejected", cert=cert
    )


def decide_provider(user: User, admin: User, verified: bool, reason: str = "") -> None:
    """Verify or reject a pending healthcare-provider account; audit it and tell the provider."""
    if user.role != Role.PROVIDER or user.provider_status != ProviderStatus.PENDING:
        raise QueueError("This account is no longer waiting for verification.")
    before = snapshot(user, *PROVIDER_FIELDS)
    user.provider_status = ProviderStatus.VERIFIED if verified else ProviderStatus.REJECTED
    user.provider_status_reason = "" if verified else reason.strip()
    action = "provider.verified" if verified else "provider.rejected"
    record_audit(admin, action, user, before=before, after=snapshot(user, *PROVIDER_FIELDS))
    if verified:
        notify_user(user, "Your provider account is verified", "provider_verified")
    else:
        notify_user(
            user, "We could not verify your provider account", "provider_rejected", reason=user.provider_status_reason
        )


def _claim(cert: Certification, column, expires_on: date) -> bool:
    """Record that a message for this expiry date is sent; False if another run already did."""
    result = db.session.execute(
        update(Certification)
        .where(Certification.id == cert.id, or_(column.is_(None), column != expires_on))
        .values({column.key: expires_on})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def notify_expiring(today: date) -> tuple[int, int]:
    """Email owners of verified credentials 30 days before and on the expiry day; returns (warnings, notices).

    Each message is recorded against the expiry date it was about, so repeated runs (and a
    later renewal with a new date) send each message once. The caller commits.
    """
    candidates = (
        db.session.execute(
            select(Certification).where(
                Certification.status == VerificationStatus.VERIFIED,
                Certification.expires_on.is_not(None),
                Certification.expires_on <= today + timedelta(days=WARNING_DAYS),
                Certification.expires_on >= today - timedelta(days=NOTICE_GRACE_DAYS),
            )
        )
        .scalars()
        .all()
    )
    warnings = notices = 0
    for cert in candidates:
        expires_on = cert.expires_on
        if expires_on <= today:
            if cert.expiry_notice_sent_for != expires_on and _claim(
                cert, Certification.expiry_notice_sent_for, expires_on
            ):
                notify_practitioner(
                    cert.practitioner,
                    f"Your {cert.credential} credential "
                    + ("expires today" if expires_on == today else f"expired on {expires_on:%-d %B %Y}"),
                    "credential_expiry_notice",
                    cert=cert,
                    expires_today=expires_on == today,
                )
                notices += 1
        elif cert.expiry_warning_sent_for != expires_on and _claim(
            cert, Certification.expiry_warning_sent_for, expires_on
        ):
            notify_practitioner(
                cert.practitioner,
                f"Your {cert.credential} credential expires on {expires_on:%-d %B %Y}",
                "credential_expiry_warning",
                cert=cert,
                days_left=(expires_on - today).days,
            )
            warnings += 1
    # The claims and their messages are in the caller's transaction: they are committed
    # together (or not at all), so a crash never keeps a claim without its message.
    db.session.flush()
    return warnings, notices
