"""The outbox's rules shared by its senders (mail and webhooks): the claim lease and the back-off.

A sender claims one due row at a time with a short lease, so two senders running at once never
send the same row twice; a failed attempt waits longer each time.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, update

from directory.extensions import db
from directory.models.base import utcnow

# Back-off doubles from 30 s up to one hour; 60 attempts keep a row trying for about two days of
# outage before it is given up (it stays in its table with its last error).
MAX_ATTEMPTS = 60
BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 3600
# How long a sender holds a row it is sending before another sender may take it over.
CLAIM_LEASE = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """Delay before the next attempt: 30 s, 1 min, 2 min, ... capped at one hour."""
    return timedelta(seconds=min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(0, attempts - 1)))


def claim(model, row_id: int, *unfinished: ColumnElement[bool]) -> bool:
    """Take a due row of `model` for sending (a lease), atomically; False when it is not ours to send.

    `unfinished` are the conditions of a row still to be sent (not sent, not given up): the row
    is ours only when they hold and its next attempt is due. The claim is committed at once, so
    other senders see it.
    """
    now = utcnow()
    result = db.session.execute(
        update(model)
        .where(model.id == row_id, *unfinished, model.next_attempt_at <= now)
        .values(next_attempt_at=now + CLAIM_LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1
