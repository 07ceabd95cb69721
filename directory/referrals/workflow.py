"""The referral lifecycle: the one transition table, and when a referral is overdue.

Statuses follow FHIR's Task workflow (and the 360X closed-loop referral guide). Each move
names the party that may make it (the referring provider or the receiving practitioner) and
what it needs: a note (the reason for a rejection, a hold or an error), the first
appointment, a coded reason for a failure, or the structured outcome. A few moves keep the
status: a no-show is recorded on the referral as it stands. Pages, the API and the tests all
read this table; nothing else decides what is legal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from directory.models.base import as_utc

REFERRER = "referrer"
RECIPIENT = "recipient"
PARTIES = (REFERRER, RECIPIENT)

DRAFT = "draft"
REQUESTED = "requested"
RECEIVED = "received"
ACCEPTED = "accepted"
REJECTED = "rejected"
IN_PROGRESS = "in-progress"
ON_HOLD = "on-hold"
FAILED = "failed"
COMPLETED = "completed"
CANCELLED = "cancelled"
ENTERED_IN_ERROR = "entered-in-error"

STATUSES = (
    DRAFT,
    REQUESTED,
    RECEIVED,
    ACCEPTED,
    REJECTED,
    IN_PROGRESS,
    ON_HOLD,
    FAILED,
    COMPLETED,
    CANCELLED,
    ENTERED_IN_ERROR,
)
# Moves that record something without changing the status ("status": "no-show" in the API).
NO_SHOW = "no-show"
ACTIONS = (NO_SHOW,)
# Statuses the practitioner never sees: a draft exists only for the provider who wrote it, and a
# referral sent in error is withdrawn from them (it stays in the referrer's list and the audit trail).
HIDDEN_FROM_RECIPIENT = frozenset({DRAFT, ENTERED_IN_ERROR})
FINAL = frozenset({REJECTED, FAILED, COMPLETED, CANCELLED, ENTERED_IN_ERROR})
# The statuses a hold can interrupt; leaving the hold goes back to the one it interrupted.
HOLDABLE = (REQUESTED, RECEIVED, ACCEPTED, IN_PROGRESS)

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
    ON_HOLD: "On hold",
    FAILED: "Ended without treatment",
    COMPLETED: "Completed",
    CANCELLED: "Cancelled",
    ENTERED_IN_ERROR: "Sent in error",
}
# The badge of each status (Bootstrap's text-bg-* classes, all with AA contrast).
STATUS_COLOURS = {
    DRAFT: "text-bg-light",
    REQUESTED: "text-bg-primary",
    RECEIVED: "text-bg-info",
    ACCEPTED: "text-bg-success",
    REJECTED: "text-bg-danger",
    IN_PROGRESS: "text-bg-success",
    ON_HOLD: "text-bg-warning",
    FAILED: "text-bg-danger",
    COMPLETED: "text-bg-dark",
    CANCELLED: "text-bg-secondary",
    ENTERED_IN_ERROR: "text-bg-secondary",
}
STATUS_EXPLANATIONS = {
    DRAFT: "Only the referrer sees a draft; the practitioner sees it once it is sent.",
    REQUESTED: "Sent to the practitioner, who has not opened it yet.",
    RECEIVED: "The practitioner has opened the referral and will accept or decline it.",
    ACCEPTED: "The practitioner will see the patient; the first appointment is not booked yet.",
    REJECTED: "The practitioner declined the referral; the reason is below.",
    IN_PROGRESS: "The first appointment is booked; treatment is under way.",
    ON_HOLD: "Paused by one of the parties for the reason below; either may take it up again.",
    FAILED: "The practitioner ended the referral without completing treatment, for the reason below.",
    COMPLETED: "Treatment has ended; the outcome for the referrer is below.",
    CANCELLED: "The referrer cancelled the referral.",
    ENTERED_IN_ERROR: "The referrer withdrew this referral as sent in error; the practitioner no longer sees it.",
}

# Why a referral failed: the short list of the API's "reason".
FAILURE_REASONS = {
    "unreachable": "Patient unreachable after several attempts",
    "declined": "Patient declined treatment",
    "not-suitable": "Not suitable for craniosacral therapy",
    "no-show": "Patient did not come to two appointments",
    "other": "Other reason (see note)",
}
# A failure for this reason needs this many recorded no-shows first.
NO_SHOWS_BEFORE_FAILING = 2

# What a move needs besides the status.
NOTE = "note"
APPOINTMENT = "appointment_at"
REASON = "reason"
OUTCOME = "outcome"


@dataclass(frozen=True)
class Move:
    """One legal move: from a status to another (or an action), by one party, needing some fields.

    `resumes`: the move leaves a hold, and is legal only towards the status the hold interrupted.
    """

    source: str
    target: str
    party: str
    label: str
    needs: tuple[str, ...] = ()
    note_label: str = "Note"
    resumes: bool = False


_CANCEL = {"label": "Cancel referral", "note_label": "Reason (optional)"}
_HOLD = {"label": "Put on hold", "needs": (NOTE,), "note_label": "Reason for the hold"}
_FAIL = {"label": "End without treatment", "needs": (REASON,), "note_label": "Note (required for “other”)"}
_NO_SHOW = {"label": "Record a no-show", "note_label": "Note (optional)"}

TRANSITIONS: tuple[Move, ...] = (
    Move(DRAFT, REQUESTED, REFERRER, "Send referral"),
    Move(REQUESTED, RECEIVED, RECIPIENT, "Mark as received"),
    Move(RECEIVED, ACCEPTED, RECIPIENT, "Accept"),
    Move(RECEIVED, REJECTED, RECIPIENT, "Decline", needs=(NOTE,), note_label="Reason for declining"),
    Move(ACCEPTED, IN_PROGRESS, RECIPIENT, "First appointment booked", needs=(APPOINTMENT,)),
    Move(IN_PROGRESS, COMPLETED, RECIPIENT, "Complete", needs=(NOTE, OUTCOME), note_label="Outcome for the referrer"),
    Move(ACCEPTED, NO_SHOW, RECIPIENT, **_NO_SHOW),
    Move(IN_PROGRESS, NO_SHOW, RECIPIENT, **_NO_SHOW),
    Move(ACCEPTED, FAILED, RECIPIENT, **_FAIL),
    Move(IN_PROGRESS, FAILED, RECIPIENT, **_FAIL),
    *(Move(source, ON_HOLD, party, **_HOLD) for source in HOLDABLE for party in PARTIES),
    *(Move(ON_HOLD, target, party, "Take up again", resumes=True) for target in HOLDABLE for party in PARTIES),
    Move(ON_HOLD, CANCELLED, REFERRER, **_CANCEL),
    Move(REQUESTED, ENTERED_IN_ERROR, REFERRER, "Withdraw: sent in error", needs=(NOTE,), note_label="What was wrong"),
    Move(RECEIVED, ENTERED_IN_ERROR, REFERRER, "Withdraw: sent in error", needs=(NOTE,), note_label="What was wrong"),
    Move(REQUESTED, CANCELLED, REFERRER, **_CANCEL),
    Move(RECEIVED, CANCELLED, REFERRER, **_CANCEL),
    Move(ACCEPTED, CANCELLED, REFERRER, **_CANCEL),
    Move(IN_PROGRESS, CANCELLED, REFERRER, **_CANCEL),
)

_BY_KEY = {(m.source, m.target, m.party): m for m in TRANSITIONS}


def find_move(source: str, target: str, party: str | None) -> Move | None:
    """The legal move from source to target by this party, or None."""
    return _BY_KEY.get((source, target, party))


def parties_moving_to(target: str) -> set[str]:
    """Which parties may ever move a referral to this status (or make this action)."""
    return {m.party for m in TRANSITIONS if m.target == target}


def moves_from(source: str, party: str | None, held_from: str = "") -> list[Move]:
    """The moves this party may make from this status (none for a non-party, e.g. an admin).

    From a hold, only the way back to the status it interrupted (`held_from`) is offered.
    """
    return [
        m for m in TRANSITIONS if m.source == source and m.party == party and (not m.resumes or m.target == held_from)
    ]


def add_working_days(start: datetime, days: int) -> datetime:
    """The moment `days` working days (Monday to Friday) after `start`, same time of day."""
    moment = start
    remaining = days
    while remaining > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment


def working_days_between(start: datetime, end: datetime) -> int:
    """How many working days have passed from `start` to `end`, counted as add_working_days counts them.

    The largest n with add_working_days(start, n) <= end (0 when `end` is not after `start`):
    the overdue rule's working days, for the referrer's summary.
    """
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        return 0
    # Every full week holds five working days: start there and step up.
    days = 5 * ((end - start).days // 7)
    while add_working_days(start, days + 1) <= end:
        days += 1
    return days


# A referral waiting in one of these statuses longer than this many working days is overdue:
# not opened within 3, or accepted without a first appointment within 10.
OVERDUE_WORKING_DAYS = {REQUESTED: 3, ACCEPTED: 10}
OVERDUE_LABELS = {
    REQUESTED: "Overdue: not opened in 3 working days",
    ACCEPTED: "Overdue: no appointment 10 working days after accepting",
}


def is_overdue(status: str, since: datetime | None, now: datetime) -> bool:
    """True when the referral has waited in `status` since `since` longer than that status allows."""
    days = OVERDUE_WORKING_DAYS.get(status)
    if days is None or since is None:
        return False
    return as_utc(now) > add_working_days(as_utc(since), days)
