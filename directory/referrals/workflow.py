"""The referral lifecycle: the one transition table, and when a referral is overdue.

Statuses follow FHIR's Task workflow. Each move names the party that may make it
(the referring provider or the receiving practitioner) and what it needs: a note (the
reason for a rejection, the outcome for the referrer) or the first appointment's date.
Pages, the API and the tests all read this table; nothing else decides what is legal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

REFERRER = "referrer"
RECIPIENT = "recipient"

DRAFT = "draft"
REQUESTED = "requested"
RECEIVED = "received"
ACCEPTED = "accepted"
REJECTED = "rejected"
IN_PROGRESS = "in-progress"
COMPLETED = "completed"
CANCELLED = "cancelled"

STATUSES = (DRAFT, REQUESTED, RECEIVED, ACCEPTED, REJECTED, IN_PROGRESS, COMPLETED, CANCELLED)
# Statuses the practitioner never sees: a draft exists only for the provider who wrote it.
HIDDEN_FROM_RECIPIENT = frozenset({DRAFT})
FINAL = frozenset({REJECTED, COMPLETED, CANCELLED})

# How soon the patient should be seen: the one list behind the form, the API and the emails.
URGENCY_LABELS = {"routine": "Routine", "urgent": "Urgent", "asap": "As soon as possible"}
URGENCIES = tuple(URGENCY_LABELS)

STATUS_LABELS = {
    DRAFT: "Draft",
    REQUESTED: "Sent",
    RECEIVED: "Received",
    ACCEPTED: "Accepted",
    REJECTED: "Declined",
    IN_PROGRESS: "In progress",
    COMPLETED: "Completed",
    CANCELLED: "Cancelled",
}

# What a move needs besides the status.
NOTE = "note"
APPOINTMENT = "appointment_at"


@dataclass(frozen=True)
class Move:
    """One legal move: from a status to another, by one party, needing some fields."""

    source: str
    target: str
    party: str
    label: str
    needs: tuple[str, ...] = ()
    note_label: str = "Note"


TRANSITIONS: tuple[Move, ...] = (
    Move(DRAFT, REQUESTED, REFERRER, "Send referral"),
    Move(REQUESTED, RECEIVED, RECIPIENT, "Mark as received"),
    Move(RECEIVED, ACCEPTED, RECIPIENT, "Accept"),
    Move(RECEIVED, REJECTED, RECIPIENT, "Decline", needs=(NOTE,), note_label="Reason for declining"),
    Move(ACCEPTED, IN_PROGRESS, RECIPIENT, "First appointment booked", needs=(APPOINTMENT,)),
    Move(IN_PROGRESS, COMPLETED, RECIPIENT, "Complete", needs=(NOTE,), note_label="Outcome for the referrer"),
    Move(REQUESTED, CANCELLED, REFERRER, "Cancel referral", note_label="Reason (optional)"),
    Move(RECEIVED, CANCELLED, REFERRER, "Cancel referral", note_label="Reason (optional)"),
    Move(ACCEPTED, CANCELLED, REFERRER, "Cancel referral", note_label="Reason (optional)"),
    Move(IN_PROGRESS, CANCELLED, REFERRER, "Cancel referral", note_label="Reason (optional)"),
)

_BY_PAIR = {(m.source, m.target): m for m in TRANSITIONS}


def find_move(source: str, target: str) -> Move | None:
    """The legal move from source to target, or None."""
    return _BY_PAIR.get((source, target))


def parties_moving_to(target: str) -> set[str]:
    """Which parties may ever move a referral to this status."""
    return {m.party for m in TRANSITIONS if m.target == target}


def moves_from(source: str, party: str | None) -> list[Move]:
    """The moves this party may make from this status (none for a non-party, e.g. an admin)."""
    return [m for m in TRANSITIONS if m.source == source and m.party == party]


def add_working_days(start: datetime, days: int) -> datetime:
    """The moment `days` working days (Monday to Friday) after `start`, same time of day."""
    moment = start
    remaining = days
    while remaining > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment


OVERDUE_WORKING_DAYS = 3


def is_overdue(status: str, sent_at: datetime | None, now: datetime) -> bool:
    """A referral still `requested` more than 3 working days after it was sent is overdue."""
    if status != REQUESTED or sent_at is None:
        return False
    return as_utc(now) > add_working_days(as_utc(sent_at), OVERDUE_WORKING_DAYS)


def as_utc(moment: datetime) -> datetime:
    """A timezone-aware UTC datetime (SQLite gives naive ones back; they are UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
