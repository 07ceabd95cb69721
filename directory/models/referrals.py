"""Referrals from healthcare providers to practitioners, with their history."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.extensions import db
from directory.models.base import utcnow

if TYPE_CHECKING:
    from directory.models.accounts import User
    from directory.models.practitioners import Condition, PracticeLocation, Practitioner

referral_conditions = Table(
    "referral_conditions",
    db.metadata,
    Column("referral_id", ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True),
    Column("condition_id", ForeignKey("conditions.id", ondelete="CASCADE"), primary_key=True),
)


class Referral(db.Model):
    """A patient referred by a provider to a practitioner; `version` guards concurrent moves."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    referrer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioners.id", ondelete="SET NULL"), index=True)
    # Kept so a referral stays readable after either party deletes their account.
    practitioner_name: Mapped[str] = mapped_column(String(120), default="")
    referrer_name: Mapped[str] = mapped_column(String(120), default="")
    patient_name: Mapped[str] = mapped_column(String(120))
    patient_phone: Mapped[str] = mapped_column(String(40), default="")
    patient_email: Mapped[str] = mapped_column(String(254), default="")
    patient_birth_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    clinical_notes: Mapped[str] = mapped_column(Text, default="")
    urgency: Mapped[str] = mapped_column(String(10), default="routine")
    preferred_contact: Mapped[str] = mapped_column(String(10), default="phone")
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="requested", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The first appointment, in UTC, at one of the practitioner's locations; its zone and the
    # location's name are copied at booking so the time reads the same if the location goes.
    appointment_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    appointment_location_id: Mapped[int | None] = mapped_column(
        ForeignKey("practice_locations.id", ondelete="SET NULL")
    )
    appointment_time_zone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    appointment_place: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The completion note ("outcome_note" in the API) and the structured outcome.
    outcome: Mapped[str] = mapped_column(Text, default="")
    outcome_sessions: Mapped[int | None] = mapped_column(Integer)
    outcome_last_session_on: Mapped[date | None] = mapped_column(Date)
    outcome_pain_start: Mapped[int | None] = mapped_column(Integer)
    outcome_pain_end: Mapped[int | None] = mapped_column(Integer)
    outcome_pgic: Mapped[int | None] = mapped_column(Integer)
    outcome_return_to_referrer: Mapped[bool | None] = mapped_column(Boolean)
    outcome_return_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    # The status a hold interrupted ("" when not on hold); the reason of the hold, of a failure
    # (with its code in status_reason) or of an error, while the referral is in that status.
    held_from: Mapped[str] = mapped_column(String(20), default="", server_default="")
    status_reason: Mapped[str] = mapped_column(String(20), default="", server_default="")
    status_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    no_shows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    referrer: Mapped[User | None] = relationship()
    practitioner: Mapped[Practitioner | None] = relationship()
    appointment_location: Mapped[PracticeLocation | None] = relationship()
    conditions: Mapped[list[Condition]] = relationship(secondary=referral_conditions)
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", cascade="all, delete-orphan", order_by="ReferralEvent.id"
    )
    messages: Mapped[list[ReferralMessage]] = relationship(
        back_populates="referral", cascade="all, delete-orphan", order_by="ReferralMessage.id"
    )

    __mapper_args__ = {"version_id_col": version}


class ReferralEvent(db.Model):
    """One move in a referral's life: status, time, actor and note.

    `kind` is "" for a change of status, or an action that kept it ("no-show", with the
    appointment it concerns).
    """

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(254), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20), default="", server_default="")
    appointment_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    referral: Mapped[Referral] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class ReferralMessage(db.Model):
    """A message between the referrer and the practitioner about one referral."""

    __tablename__ = "referral_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(254), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
