"""Claims review: the phrases that hold a text back, and the changes held for an admin."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, DateTime, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.extensions import db
from directory.models.base import utcnow

if TYPE_CHECKING:
    from directory.models.accounts import User
    from directory.models.practitioners import Practitioner


class ClaimPhrase(db.Model):
    """A phrase that may not appear in what patients read, and why (shown to the practitioner)."""

    __tablename__ = "claim_phrases"

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase: Mapped[str] = mapped_column(String(120), unique=True)
    # Shown to the practitioner whose text the phrase holds back. Changes are in the audit log.
    explanation: Mapped[str] = mapped_column(String(400))

    def __repr__(self) -> str:
        return f"<ClaimPhrase {self.phrase!r}>"


class ReviewStatus(str, enum.Enum):
    """Where a held change stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class HeldChange(db.Model):
    """Texts of a practitioner's profile held back because screening flagged them.

    `values` maps a text's key ("bio", "location:12:label", see directory.claims.texts) to the
    proposed text; the public keeps the current text until an admin approves. At most one
    change per practitioner is pending: a new edit replaces its values and is screened again.
    """

    __tablename__ = "held_changes"
    __table_args__ = (Index("ix_held_changes_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id", ondelete="CASCADE"), index=True)
    status: Mapped[ReviewStatus] = mapped_column(
        Enum(ReviewStatus, native_enum=False, length=12, values_callable=lambda e: [m.value for m in e]),
        default=ReviewStatus.PENDING,
    )
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    # [{"field", "phrase", "explanation"}] as screened when the change was last edited.
    flags: Mapped[list] = mapped_column(JSON, default=list)
    # The practitioner asked an admin to review the text as it is (rather than rephrasing).
    review_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    practitioner: Mapped[Practitioner] = relationship()
    decided_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<HeldChange {self.id} {self.status.value} practitioner={self.practitioner_id}>"
