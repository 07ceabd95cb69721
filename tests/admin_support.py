"""Helpers shared by the admin tests: a signed-in admin client, the outbox and the audit log."""

from __future__ import annotations

import pytest

from directory.extensions import db
from directory.models import AuditLog, OutboxMessage
from tests.conftest import login


@pytest.fixture
def admin_client(client, admin_user):
    """A test client signed in as the admin."""
    login(client, admin_user)
    return client


def outbox(recipient: str | None = None) -> list[OutboxMessage]:
    """Queued messages, oldest first, optionally for one recipient."""
    query = db.select(OutboxMessage).order_by(OutboxMessage.id)
    if recipient:
        query = query.where(OutboxMessage.recipient == recipient)
    return db.session.execute(query).scalars().all()


def audit_entries(action: str | None = None) -> list[AuditLog]:
    """Audit entries, oldest first, optionally of one action."""
    query = db.select(AuditLog).order_by(AuditLog.id)
    if action:
        query = query.where(AuditLog.action == action)
    return db.session.execute(query).scalars().all()


def fresh(obj):
    """Reload an object from the database (after a request changed it)."""
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)
