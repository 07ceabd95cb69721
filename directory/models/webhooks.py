"""Webhook endpoints of clinic systems, and the deliveries waiting in their outbox."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.extensions import db
from directory.models.base import utcnow

if TYPE_CHECKING:
    from directory.models.accounts import User


class WebhookEndpoint(db.Model):
    """A URL a provider (or an admin, for the whole site) is told of referral changes at."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # The event types, comma-separated (see directory.webhooks.EVENTS).
    events: Mapped[str] = mapped_column(String(200))
    # The Standard Webhooks signing secret ("whsec_" + base64); shown once, kept to sign.
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_reason: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship()
    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="endpoint", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def event_list(self) -> list[str]:
        """The event types, as a list."""
        return [event for event in self.events.split(",") if event]


class WebhookDelivery(db.Model):
    """One event for one endpoint: its signed body, kept as sent, and its delivery attempts."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    # The webhook-id header: the same on every attempt, so receivers can drop repeats.
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    gave_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")

    endpoint: Mapped[WebhookEndpoint] = relationship(back_populates="deliveries")
