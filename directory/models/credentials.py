"""Certifying bodies, the credentials they award, and practitioners' certifications."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, DateTime, Enum, ForeignKey, Index, String, Text, UniqueConstraint, and_, or_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.extensions import db
from directory.models.base import today, utcnow

if TYPE_CHECKING:
    from directory.models.accounts import User
    from directory.models.practitioners import Practitioner


class VerificationStatus(str, enum.Enum):
    """Where a certification stands in the verification queue."""

    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class CertifyingBody(db.Model):
    """A reputable organization that trains and certifies CST practitioners."""

    __tablename__ = "certifying_bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    website: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    credentials: Mapped[list[Credential]] = relationship(
        back_populates="body", cascade="all, delete-orphan", order_by="Credential.id"
    )

    @property
    def credential_codes(self) -> list[str]:
        """The codes of the credentials this body awards."""
        return [c.code for c in self.credentials]

    def __repr__(self) -> str:
        return f"<CertifyingBody {self.slug}>"


class Credential(db.Model):
    """A credential level a body awards (CST-T, CST-D, RCST, ...)."""

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("body_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("certifying_bodies.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200), default="")
    requirements: Mapped[str] = mapped_column(Text, default="")

    body: Mapped[CertifyingBody] = relationship(back_populates="credentials")


class Certification(db.Model):
    """A credential a practitioner says they hold, and what the site checked of it."""

    __tablename__ = "certifications"
    # The verification queue pages through pending credentials oldest first (admin/credential_queue.py).
    __table_args__ = (Index("ix_certifications_queue", "status", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id", ondelete="CASCADE"), index=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("certifying_bodies.id"), index=True)
    credential: Mapped[str] = mapped_column(String(40))
    credential_number: Mapped[str] = mapped_column(String(80), default="")
    issued_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[VerificationStatus] = mapped_column(
        Enum(VerificationStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=VerificationStatus.PENDING,
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # How it was checked: "register checked", "certificate inspected", "import:<source>", ...
    verification_source: Mapped[str] = mapped_column(String(200), default="")
    verification_note: Mapped[str] = mapped_column(Text, default="")
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    evidence_path: Mapped[str] = mapped_column(String(200), default="")
    evidence_name: Mapped[str] = mapped_column(String(200), default="")
    evidence_mimetype: Mapped[str] = mapped_column(String(80), default="")
    expiry_warning_sent_for: Mapped[date | None] = mapped_column(Date)
    expiry_notice_sent_for: Mapped[date | None] = mapped_column(Date)

    practitioner: Mapped[Practitioner] = relationship(back_populates="certifications")
    body: Mapped[CertifyingBody] = relationship()
    verified_by: Mapped[User | None] = relationship()

    @hybrid_property
    def is_currently_verified(self) -> bool:
        """Verified and not past its expiry date: the only case that shows a badge."""
        return self.status == VerificationStatus.VERIFIED and (self.expires_on is None or self.expires_on >= today())

    @is_currently_verified.inplace.expression
    @classmethod
    def _is_currently_verified_expression(cls):
        return cls.verified_on(today())

    @classmethod
    def verified_on(cls, day):
        """SQL: verified and not expired on `day` (a date or a bound parameter for one)."""
        return and_(cls.status == VerificationStatus.VERIFIED, or_(cls.expires_on.is_(None), cls.expires_on >= day))

    @classmethod
    def expired_on(cls, day):
        """SQL: past its expiry date on `day`."""
        return and_(cls.expires_on.is_not(None), cls.expires_on < day)

    @hybrid_property
    def is_expired(self) -> bool:
        """True once the expiry date has passed."""
        return self.expires_on is not None and self.expires_on < today()

    @is_expired.inplace.expression
    @classmethod
    def _is_expired_expression(cls):
        return cls.expired_on(today())

    def mark_pending(self) -> None:
        """Send the certification back to the verification queue after a change."""
        self.status = VerificationStatus.PENDING
        self.verified_at = None
        self.verified_by_id = None
        self.verification_source = ""
        self.verification_note = ""
        self.rejection_reason = ""

    def mark_verified(self, source: str, by: User | None = None, note: str = "") -> None:
        """Record that the credential was checked and found genuine."""
        self.status = VerificationStatus.VERIFIED
        self.verified_at = utcnow()
        self.verified_by = by
        self.verification_source = source
        self.verification_note = note
        self.rejection_reason = ""

    def mark_rejected(self, reason: str, by: User | None = None) -> None:
        """Record that the credential could not be verified, with the reason."""
        self.status = VerificationStatus.REJECTED
        self.verified_at = utcnow()
        self.verified_by = by
        self.rejection_reason = reason
