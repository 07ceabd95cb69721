"""The data model, split by area."""

from directory.models.accounts import ApiToken, Role, User
from directory.models.audit import AuditLog
from directory.models.credentials import Certification, CertifyingBody, Credential, VerificationStatus
from directory.models.mail import OutboxMessage
from directory.models.practitioners import (
    Condition,
    Enquiry,
    GeocodeCache,
    PracticeLocation,
    Practitioner,
    ProfessionalLicense,
    Training,
)
from directory.models.referrals import Referral, ReferralEvent, ReferralMessage

__all__ = [
    "ApiToken",
    "AuditLog",
    "Certification",
    "CertifyingBody",
    "Condition",
    "Credential",
    "Enquiry",
    "GeocodeCache",
    "OutboxMessage",
    "PracticeLocation",
    "Practitioner",
    "ProfessionalLicense",
    "Referral",
    "ReferralEvent",
    "ReferralMessage",
    "Role",
    "Training",
    "User",
    "VerificationStatus",
]
