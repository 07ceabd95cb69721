"""Checking credentials and healthcare providers, and warning owners before credentials expire.

Functions here change the records, add the audit entry and queue the email in the caller's
transaction; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select, update

from directory.admin.notices import notify_practitioner, notify_user
from directory.audit import record_audit, snapshot
from directory.extensions import db
from directory.models import AuditLog, Certification, Role, User, VerificationStatus
from directory.models.accounts import ProviderStatus
from directory.models.base import today as utc_today

CERT_FIELDS = ("status", "verification_source", "verification_note", "rejection_reason", "verified_at", "expires_on")
PROVIDER_FIELDS = ("provider_status", "provider_status_reason")
WARNING_DAYS = 30
# A notice missed because the job did not run on the day is still sent within this many days.
NOTICE_GRACE_DAYS = 7


# How a credential may be checked: the value stored as its verification source, and the label.
REGISTER_CHECKED = "register checked"
CERTIFICATE_INSPECTED = "certificate inspected"
BODY_CONTACTED = "body contacted"
METHODS = {
    REGISTER_CHECKED: "Register checked",
    CERTIFICATE_INSPECTED: "Certificate inspected",
    BODY_CONTACTED: "Certifying body contacted",
}
# The audit action that records an admin's look at a credential's evidence file.
EVIDENCE_OPENED = "certification.evidence_opened"


class QueueError(Exception):
    """The record is no longer waiting for this decision."""


def pending_providers() -> list[User]:
    """The provider queue: pending healthcare-provider accounts, oldest first."""
    query = (
        select(User)
        .where(User.role == Role.PROVIDER, User.provider_status == ProviderStatus.PENDING)
        .order_by(User.created_at, User.id)
    )
    return db.session.execute(query).scalars().all()


@dataclass(frozen=True)
class Check:
    """What the admin says about how a credential was checked (the verification form's fields)."""

    method: str = ""
    reference: str = ""
    contact: str = ""
    contacted_on: date | None = None
    note: str = ""


class VerificationRefused(Exception):
    """The check names too little to record the credential as verified; `problems` by form field."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


def record_evidence_opened(cert: Certification, admin: User) -> None:
    """Record (once per admin and file) that the admin opened the credential's evidence file, in the audit log."""
    if not evidence_opened(cert, admin):
        record_audit(admin, EVIDENCE_OPENED, cert, after={"file": cert.evidence_name, "stored": cert.evidence_path})


def opened_evidence_ids(certs: list[Certification], admin: User) -> set[int]:
    """Of these credentials, the ids whose current evidence file this admin has opened."""
    stored = {str(c.id): c.evidence_path for c in certs if c.evidence_path}
    if not stored:
        return set()
    entries = db.session.execute(
        select(AuditLog.object_id, AuditLog.after).where(
            AuditLog.object_type == "Certification",
            AuditLog.object_id.in_(list(stored)),
            AuditLog.action == EVIDENCE_OPENED,
            AuditLog.actor_id == admin.id,
        )
    ).all()
    # A file uploaded since (the practitioner replaced the evidence) has not been opened yet.
    return {int(i) for i, after in entries if (after or {}).get("stored") == stored[i]}


def evidence_opened(cert: Certification, admin: User) -> bool:
    """True once this admin has opened the credential's current evidence file."""
    return cert.id in opened_evidence_ids([cert], admin)


def check_problems(cert: Certification, admin: User, check: Check) -> dict[str, str]:
    """What the check still lacks, by form field; empty when it says enough to record a verification."""
    if check.method not in METHODS:
        known = ", ".join(f"“{label}”" for label in METHODS.values())
        if not check.method:
            return {"method": f"Say how you checked this credential: {known}."}
        return {"method": f"Choose one of the ways of checking we know: {known}."}
    problems = {}
    if check.method == REGISTER_CHECKED and not check.reference.strip():
        problems["reference"] = "Give the register's reference or the URL of the entry you checked."
    elif check.method == CERTIFICATE_INSPECTED:
        if not cert.evidence_path:
            problems["method"] = "There is no certificate file to inspect; check the register or contact the body."
        elif not evidence_opened(cert, admin):
            problems["method"] = "Open the evidence file before recording that you inspected the certificate."
    elif check.method == BODY_CONTACTED:
        if not check.contact.strip():
            problems["contact"] = "Say whom you contacted at the certifying body."
        if check.contacted_on is None:
            problems["contacted_on"] = "Say when you contacted the certifying body."
        elif check.contacted_on > utc_today():
            problems["contacted_on"] = "The date you contacted the body cannot be in the future."
    return problems


def _check_note(cert: Certification, check: Check) -> str:
    """The verification note: what the check names, then the admin's own note."""
    if check.method == REGISTER_CHECKED:
        what = f"Register reference: {check.reference.strip()}"
    elif check.method == CERTIFICATE_INSPECTED:
        what = f"Certificate inspected: {cert.evidence_name or 'the evidence file'} (opened by the admin)"
    else:
        what = f"Body contacted: {check.contact.strip()} on {check.contacted_on.isoformat()}"
    note = check.note.strip()
    return f"{what}\n{note}" if note else what


def verify_certification(cert: Certification, admin: User, check: Check) -> None:
    """Mark a pending credential verified (how, with what, by whom), audit it and tell the owner."""
    if cert.status != VerificationStatus.PENDING:
        raise QueueError("This credential is no longer waiting for verification.")
    problems = check_problems(cert, admin, check)
    if problems:
        raise VerificationRefused(problems)
    before = snapshot(cert, *CERT_FIELDS)
    cert.mark_verified(check.method, by=admin, note=_check_note(cert, check))
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
