"""What the public tells us about a listing: corrections for the practitioner, concerns for the admins."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.extensions import db
from directory.models.base import utcnow

if TYPE_CHECKING:
    from directory.models.accounts import User
    from directory.models.practitioners import Practitioner


def _enum(cls, length: int = 20):
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class CorrectionStatus(str, enum.Enum):
    """Where a suggested correction stands."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"


class Correction(db.Model):
    """A visitor's suggestion that a detail of a listing is wrong, and what is right.

    It reaches the practitioner (their dashboard and an email without the sender's address
    unless they agreed to share it); unanswered after 14 days it reaches the admins too.
    """

    __tablename__ = "corrections"
    __table_args__ = (Index("ix_corrections_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id", ondelete="CASCADE"), index=True)
    # Which detail (see directory.feedback.fields), and what the visitor says is right.
    field: Mapped[str] = mapped_column(String(40))
    suggestion: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(String(254), default="")
    share_email: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[CorrectionStatus] = mapped_column(_enum(CorrectionStatus), default=CorrectionStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the admins were told it was still unanswered (once).
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    practitioner: Mapped[Practitioner] = relationship()


class ConcernKind(str, enum.Enum):
    """What a reported concern is about."""

    CONDUCT = "conduct"
    MISLEADING_CLAIM = "misleading-claim"
    FAKE_CREDENTIAL = "fake-credential"
    OTHER = "other"


class Concern(db.Model):
    """A concern about a practitioner reported by a visitor; only admins see it."""

    __tablename__ = "concerns"
    __table_args__ = (Index("ix_concerns_closed_created", "closed_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ConcernKind] = mapped_column(_enum(ConcernKind))
    details: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    admin_note: Mapped[str] = mapped_column(Text, default="")

    practitioner: Mapped[Practitioner] = relationship()
    closed_by: Mapped[User | None] = relationship()
