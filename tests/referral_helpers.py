"""Helpers for the referral tests: referrals in any status, moves on the page, API tokens, outbox reading."""

from __future__ import annotations

from datetime import UTC, datetime

from directory.extensions import db
from directory.models import ApiToken, OutboxMessage, Referral
from directory.referrals import service, workflow
from directory.referrals.outcome import Outcome
from directory.referrals.service import ReferralInput
from tests.conftest import submit_form
from tests.factories import condition

PATIENT = {
    "name": "Maria Zapatero-Quill",
    "phone": "+1 303 555 0199",
    "email": "maria.quill@patients.example",
    "birth_date": "1984-07-21",
}
CLINICAL_NOTE = "History of bruxism; night guard since 2019"
REASON = "Persistent jaw pain despite splint therapy"

# The path from `requested` to each status, as (status, needs) steps taken in order.
PATH_TO = {
    workflow.REQUESTED: [],
    workflow.RECEIVED: [workflow.RECEIVED],
    workflow.ACCEPTED: [workflow.RECEIVED, workflow.ACCEPTED],
    workflow.REJECTED: [workflow.RECEIVED, workflow.REJECTED],
    workflow.IN_PROGRESS: [workflow.RECEIVED, workflow.ACCEPTED, workflow.IN_PROGRESS],
    workflow.COMPLETED: [workflow.RECEIVED, workflow.ACCEPTED, workflow.IN_PROGRESS, workflow.COMPLETED],
    workflow.CANCELLED: [workflow.CANCELLED],
    workflow.ON_HOLD: [workflow.RECEIVED, workflow.ACCEPTED, workflow.ON_HOLD],
    workflow.FAILED: [workflow.RECEIVED, workflow.ACCEPTED, workflow.FAILED],
    workflow.ENTERED_IN_ERROR: [workflow.ENTERED_IN_ERROR],
}
# Moves the referrer makes on the way; the practitioner makes the others.
BY_REFERRER = {workflow.CANCELLED, workflow.ENTERED_IN_ERROR}
# A first appointment already past (a referral can be completed only after it), in UTC.
APPOINTMENT = datetime(2026, 3, 4, 16, 30, tzinfo=UTC)
OUTCOME = Outcome(sessions=4)


def referral_input(practitioner_user, **overrides) -> ReferralInput:
    """A complete referral to the practitioner of this user."""
    data = {
        "practitioner": practitioner_user.practitioner,
        "patient_name": PATIENT["name"],
        "patient_phone": PATIENT["phone"],
        "patient_email": PATIENT["email"],
        "patient_birth_date": datetime(1984, 7, 21).date(),
        "conditions": [condition("tmj")],
        "reason": REASON,
        "clinical_notes": CLINICAL_NOTE,
        "urgency": "urgent",
        "consent": True,
    }
    data.update(overrides)
    return ReferralInput(**data)


def make_referral(provider, practitioner_user, status: str = workflow.REQUESTED, **overrides) -> Referral:
    """A referral from provider to practitioner, moved along the lifecycle to `status`."""
    if status == workflow.DRAFT:
        referral = service.create_referral(provider, referral_input(practitioner_user, **overrides), draft=True)
        db.session.commit()  # services flush; their caller commits
        return referral
    referral = service.create_referral(provider, referral_input(practitioner_user, **overrides))
    for step in PATH_TO[status]:
        actor = provider if step in BY_REFERRER else practitioner_user
        service.transition(
            referral,
            actor,
            step,
            note="A note" if step not in (workflow.RECEIVED, workflow.ACCEPTED, workflow.IN_PROGRESS) else "",
            appointment_at=APPOINTMENT if step == workflow.IN_PROGRESS else None,
            reason="unreachable" if step == workflow.FAILED else "",
            outcome=OUTCOME if step == workflow.COMPLETED else None,
        )
    db.session.commit()
    assert referral.status == status
    return referral


def submit_move(client, referral, status: str, **fields):
    """Submit the move form of the referral's page (as the signed-in user), with the version the page shows."""
    return submit_form(
        client,
        f"/referrals/{referral.id}",
        {"status": status, "version": referral.version, **fields},
        post_url=f"/referrals/{referral.id}/transitions",
    )


def token_for(user) -> dict:
    """Authorization headers with a fresh API token of this user."""
    _, plain = ApiToken.issue(user, "tests")
    db.session.commit()
    return {"Authorization": f"Bearer {plain}"}


def outbox() -> list[OutboxMessage]:
    """Every queued email, oldest first."""
    db.session.expire_all()
    return db.session.execute(db.select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()


def assert_no_patient_details(text: str) -> None:
    """None of the test patient's details, nor the clinical note, appears in the text."""
    for secret in (*PATIENT.values(), "Zapatero", "555 0199", "1984", CLINICAL_NOTE, REASON, "bruxism"):
        assert secret not in text, f"{secret!r} leaked"
