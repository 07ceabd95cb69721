"""The structured outcome a practitioner records when completing a referral.

Sessions attended, the last session's date, pain on the 0–10 numeric rating scale at the first
and last session, the patient's global impression of change (PGIC, 1–7), and whether the patient
should go back to the referrer, and why. The limits live here: the page form, the API and the
service all read them, and outcome_problems() is the one check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from directory.models import Referral
from directory.models.base import today

SESSIONS = (1, 500)
PAIN = (0, 10)
PGIC = (1, 7)
# The Patient Global Impression of Change, as the patient is asked it.
PGIC_LABELS = {
    1: "Very much improved",
    2: "Much improved",
    3: "Minimally improved",
    4: "No change",
    5: "Minimally worse",
    6: "Much worse",
    7: "Very much worse",
}
FIELDS = ("sessions", "last_session_on", "pain_start", "pain_end", "pgic", "return_to_referrer", "return_reason")


@dataclass
class Outcome:
    """What completing a referral records besides its note."""

    sessions: int | None = None
    last_session_on: date | None = None
    pain_start: int | None = None
    pain_end: int | None = None
    pgic: int | None = None
    return_to_referrer: bool | None = None
    return_reason: str = ""


def _outside(value: int | None, limits: tuple[int, int]) -> bool:
    return value is not None and not limits[0] <= value <= limits[1]


def outcome_problems(outcome: Outcome | None) -> dict[str, str]:
    """What is wrong with an outcome: {field: message}; empty when it may be recorded."""
    if outcome is None:
        return {"sessions": "The number of sessions attended is required."}
    problems = {}
    if outcome.sessions is None:
        problems["sessions"] = "The number of sessions attended is required."
    elif _outside(outcome.sessions, SESSIONS):
        problems["sessions"] = f"Sessions attended must be a whole number from {SESSIONS[0]} to {SESSIONS[1]}."
    if outcome.last_session_on is not None and outcome.last_session_on > today():
        problems["last_session_on"] = "The date of the last session cannot be in the future."
    for name, label in (("pain_start", "Pain at the first session"), ("pain_end", "Pain at the last session")):
        if _outside(getattr(outcome, name), PAIN):
            problems[name] = f"{label} must be a whole number from {PAIN[0]} to {PAIN[1]}."
    if _outside(outcome.pgic, PGIC):
        problems["pgic"] = f"The impression of change (PGIC) must be a whole number from {PGIC[0]} to {PGIC[1]}."
    if outcome.return_to_referrer and not (outcome.return_reason or "").strip():
        problems["return_reason"] = "Say why the patient should return to the referrer."
    return problems


def record_outcome(referral: Referral, outcome: Outcome) -> None:
    """Copy a checked outcome onto the referral."""
    referral.outcome_sessions = outcome.sessions
    referral.outcome_last_session_on = outcome.last_session_on
    referral.outcome_pain_start = outcome.pain_start
    referral.outcome_pain_end = outcome.pain_end
    referral.outcome_pgic = outcome.pgic
    referral.outcome_return_to_referrer = outcome.return_to_referrer
    referral.outcome_return_reason = (outcome.return_reason or "").strip() if outcome.return_to_referrer else ""


def outcome_of(referral: Referral) -> Outcome | None:
    """The recorded outcome of a completed referral (None before it is completed)."""
    if referral.status != "completed":
        return None
    return Outcome(
        sessions=referral.outcome_sessions,
        last_session_on=referral.outcome_last_session_on,
        pain_start=referral.outcome_pain_start,
        pain_end=referral.outcome_pain_end,
        pgic=referral.outcome_pgic,
        return_to_referrer=referral.outcome_return_to_referrer,
        return_reason=referral.outcome_return_reason,
    )
