"""The audit trail: one helper that records what an admin (or a referral opener) did.

`record_audit()` only adds a row in the caller's transaction, so an audit entry exists
exactly when the change it describes was committed. Nothing in the site edits or deletes
entries.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import inspect as sa_inspect

from directory.extensions import db
from directory.models import AuditLog


def _jsonable(value: Any) -> Any:
    """Turn dates, enums and decimals into JSON-friendly values, recursively."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj: Any, *fields: str) -> dict:
    """The named attributes of an object as a JSON-friendly dict (for before/after)."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def record_audit(
    actor,
    action: str,
    obj: Any = None,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditLog:
    """Add an audit row (who, what, which record, before and after) in the caller's transaction."""
    if obj is not None:
        if object_type is None:
            object_type = type(obj).__name__
        if object_id is None:
            object_id = getattr(obj, "id", None)
            if object_id is None:
                # A new object gets its id at flush; flush so the entry names the record.
                state = sa_inspect(obj, raiseerr=False)
                if state is not None and (state.pending or state.transient):
                    db.session.add(obj)
                    db.session.flush()
                    object_id = obj.id
    if hasattr(actor, "_get_current_object"):  # current_user, a LocalProxy
        actor = actor._get_current_object()
    actor_obj = actor if actor is not None and getattr(actor, "is_authenticated", True) else None
    entry = AuditLog(
        actor_id=getattr(actor_obj, "id", None),
        actor_email=getattr(actor_obj, "email", "") or "",
        action=action,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )
    db.session.add(entry)
    return entry
