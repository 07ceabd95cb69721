"""Referral domain functions, gathered in one place for the views, the API and the tests.

Each job has its module; this one only names them all, so `service.X` reads the same wherever
it is called:

- `access`: who sees what (the parties, the visible lists, dashboard counts);
- `sending`: what a provider fills in, the one rule for sending, drafts;
- `moves`: the lookup that opens a referral, and the moves of the transition table;
- `timeline`: the event of each move and the parties' messages;
- `errors`: why a request was refused, as an HTTP status.

Nothing here reads the request: views and the API parse input, call these, and render.
Nothing here commits either: each function changes and flushes, and the request (or the CLI
command) commits once at its end, so a move, its timeline entry and its notification email
exist together or not at all. A refusal (ReferralError) is raised before anything changes.
"""

from __future__ import annotations

from directory.referrals.access import (
    LIST_LOADS,
    ReferralFilter,
    can_see,
    counts_by_status,
    is_overdue,
    overdue_ids,
    overdue_label,
    party_of,
    practitioner_inbox,
    practitioners_referred_to,
    visible_referrals,
)
from directory.referrals.errors import ChangedMeanwhile, IllegalMove, InvalidReferral, NotYourMove, ReferralError
from directory.referrals.moves import get_referral_or_404, make_move, open_referral, transition
from directory.referrals.sending import (
    CONTACT_METHODS,
    NOT_VERIFIED,
    ReferralInput,
    check_ready_to_send,
    confirm_consent,
    create_referral,
    delete_draft,
    sending_problems,
    update_draft,
)
from directory.referrals.timeline import add_message, record_event
from directory.referrals.workflow import URGENCIES, URGENCY_LABELS

__all__ = [
    "CONTACT_METHODS",
    "LIST_LOADS",
    "NOT_VERIFIED",
    "URGENCIES",
    "URGENCY_LABELS",
    "ChangedMeanwhile",
    "IllegalMove",
    "InvalidReferral",
    "NotYourMove",
    "ReferralError",
    "ReferralFilter",
    "ReferralInput",
    "add_message",
    "can_see",
    "check_ready_to_send",
    "confirm_consent",
    "counts_by_status",
    "create_referral",
    "delete_draft",
    "get_referral_or_404",
    "is_overdue",
    "make_move",
    "open_referral",
    "overdue_ids",
    "overdue_label",
    "party_of",
    "practitioner_inbox",
    "practitioners_referred_to",
    "record_event",
    "sending_problems",
    "transition",
    "update_draft",
    "visible_referrals",
]
