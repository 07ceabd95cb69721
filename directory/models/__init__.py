"""The data model, split by area."""

from directory.models.accounts import ApiToken, Role, User
from directory.models.audit import AuditLog
from directory.models.claims import ClaimPhrase, HeldChange, ReviewStatus
from directory.models.credentials import Certification, CertifyingBody, Credential, VerificationStatus
from directory.models.feedback import Concern, ConcernKind, Correction, CorrectionStatus
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
from directory.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "ApiToken",
    "AuditLog",
    "Certification",
    "CertifyingBody",
    "ClaimPhrase",
    "Concern",
    "ConcernKind",
    "Condition",
    "Correction",
    "CorrectionStatus",
    "Credential",
    "Enquiry",
    "GeocodeCache",
    "HeldChange",
    "OutboxMessage",
    "PracticeLocation",
    "Practitioner",
    "ProfessionalLicense",
    "Referral",
    "ReferralEvent",
    "ReferralMessage",
    "ReviewStatus",
    "Role",
    "Training",
    "User",
    "VerificationStatus",
    "WebhookDelivery",
    "WebhookEndpoint",
]
