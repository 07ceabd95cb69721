"""Hold, review and release the texts that screening flags.

A practitioner's text goes live at once when screening finds nothing in it; a flagged text is
held in the practitioner's one pending `HeldChange`, and the public keeps the last approved text.
Rephrasing replaces the held text and is screened again at once (a clean text goes live and
leaves the change); an admin approves (the held texts go live) or rejects with a reason, and
the practitioner is emailed either way. The editor, the API, accepted corrections
(`submit_texts`) and the CSV import (`submit_imported_texts`) share one hold rule. Functions
flush; the caller commits.
"""

from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy import select

from directory.admin.notices import notify_practitioner
from directory.audit import record_audit
from directory.claims.screening import Flag, screen
from directory.claims.texts import apply_text, current_text
from directory.extensions import db
from directory.models import ClaimPhrase, HeldChange, Practitioner, ReviewStatus
from directory.models.base import utcnow

# `Practitioner.unpublished_by` of a profile the CSV import would have published but for its held
# texts: approving them publishes it (an owner's or an admin's unpublishing is never undone here).
AWAITING_REVIEW = "review"


def active_phrases() -> list[tuple[str, str]]:
    """The screened (phrase, explanation) pairs, read once per request."""
    cached = g.get("_claim_phrases") if has_request_context() else None
    if cached is None:
        cached = [
            (row.phrase, row.explanation)
            for row in db.session.execute(
                select(ClaimPhrase.phrase, ClaimPhrase.explanation).order_by(ClaimPhrase.phrase)
            )
        ]
        if has_request_context():
            g._claim_phrases = cached
    return cached


def forget_phrases() -> None:
    """Drop this request's copy of the phrase list (after an admin changed it)."""
    if has_request_context():
        g.pop("_claim_phrases", None)


def screen_texts(values: dict[str, str]) -> list[Flag]:
    """The flags the current phrase list raises in these texts."""
    return screen(values, active_phrases())


def flag_dicts(flags: list[Flag]) -> list[dict]:
    """Flags as stored and as the API shows them: field, phrase, explanation (and where)."""
    return [
        {
            "field": f.field,
            "phrase": f.phrase,
            "explanation": f.explanation,
            "found": f.found,
            "start": f.start,
            "end": f.end,
        }
        for f in flags
    ]


def pending_change(practitioner: Practitioner) -> HeldChange | None:
    """The practitioner's change waiting for review, if any."""
    return db.session.execute(
        select(HeldChange).where(
            HeldChange.practitioner_id == practitioner.id, HeldChange.status == ReviewStatus.PENDING
        )
    ).scalar_one_or_none()


def pending_changes(practitioner_ids: list[int]) -> dict[int, HeldChange]:
    """The pending changes of these practitioners, by practitioner id, in one query (a batch of an import)."""
    if not practitioner_ids:
        return {}
    query = select(HeldChange).where(
        HeldChange.practitioner_id.in_(practitioner_ids), HeldChange.status == ReviewStatus.PENDING
    )
    return {change.practitioner_id: change for change in db.session.execute(query).scalars()}


def latest_decision(practitioner: Practitioner) -> HeldChange | None:
    """The practitioner's most recently decided change, if any."""
    return db.session.execute(
        select(HeldChange)
        .where(HeldChange.practitioner_id == practitioner.id, HeldChange.status != ReviewStatus.PENDING)
        .order_by(HeldChange.decided_at.desc(), HeldChange.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def submit_texts(practitioner: Practitioner, values: dict[str, str], actor) -> list[Flag]:
    """Publish the clean texts, hold the flagged ones; the flags of what was submitted.

    A text equal to the public one needs nothing. A clean text also replaces (and so
    withdraws) a held version of the same text.
    """
    changed = _changed(practitioner, values)
    practitioner.note_text_edits(changed)  # a CSV import keeps these texts (csv_io.importer)
    flags, _ = _settle(practitioner, values, changed, actor, active_phrases(), pending_change(practitioner))
    db.session.flush()
    return flags


def submit_imported_texts(
    practitioner: Practitioner, values: dict[str, str], phrases, change: HeldChange | None
) -> tuple[list[Flag], HeldChange | None]:
    """The CSV import's texts, held or published exactly as submit_texts does; (flags, pending change).

    Not recorded as the practitioner's own edits. The import reads the phrase list once per
    file (`active_phrases()`) and the pending changes once per batch (`pending_changes`), and
    passes them in: a row with nothing flagged costs no query and no flush.
    """
    return _settle(practitioner, values, _changed(practitioner, values), None, phrases, change)


def _changed(practitioner: Practitioner, values: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in values.items() if current_text(practitioner, key) != value}


def _settle(
    practitioner: Practitioner, values: dict[str, str], changed: dict[str, str], actor, phrases, change
) -> tuple[list[Flag], HeldChange | None]:
    """The one hold rule: clean changed texts go live, flagged ones join the pending change."""
    flags = screen(changed, phrases)
    flagged = {flag.field for flag in flags}
    before = dict(change.values) if change is not None else {}
    held = dict(before)
    for key, value in changed.items():
        if key in flagged:
            held[key] = value
        else:
            apply_text(practitioner, key, value)
            held.pop(key, None)
    for key in [key for key in values if key in held and key not in changed]:
        # Typed back to the public text: the held version is withdrawn.
        held.pop(key)
    if not held:
        if change is not None:
            db.session.delete(change)
            db.session.flush()
        return flags, None
    held_flags = flag_dicts(screen(held, phrases))
    if change is not None and held == before and held_flags == change.flags:
        # The same texts held again (a form saved twice, a file imported again): nothing new to record.
        return flags, change
    if change is None:
        change = HeldChange(practitioner=practitioner, values={}, flags=[])
        db.session.add(change)
    change.values = held
    change.flags = held_flags
    db.session.flush()
    record_audit(
        actor,
        "claims.held",
        change,
        after={"fields": sorted(held), "phrases": sorted({f["phrase"] for f in change.flags})},
    )
    return flags, change


def request_review(change: HeldChange, actor) -> None:
    """The practitioner asks an admin to look at the held text as it is."""
    change.review_requested = True
    db.session.flush()
    record_audit(actor, "claims.review_requested", change)


def approve(change: HeldChange, admin) -> list[str]:
    """The held texts go live; the keys that no longer name anything are reported (and skipped)."""
    practitioner = change.practitioner
    skipped = [key for key, value in change.values.items() if not apply_text(practitioner, key, value)]
    _decide(change, admin, ReviewStatus.APPROVED, "")
    published = not practitioner.published and practitioner.unpublished_by == AWAITING_REVIEW
    if published:
        _publish_after_review(practitioner, admin)
    notify_practitioner(
        practitioner,
        "Your profile text was approved",
        "claims_approved",
        fields=sorted(change.values),
        published=published,
    )
    return skipped


def _publish_after_review(practitioner: Practitioner, admin) -> None:
    """A profile the CSV import held back only for its texts goes public once they are approved."""
    from directory.practitioners.profiles import record_unpublished  # profiles imports this module

    practitioner.published = True
    record_unpublished(practitioner, None)
    record_audit(
        admin,
        "practitioner.published",
        practitioner,
        before={"published": False},
        after={"published": True, "reason": "Its imported texts were approved."},
    )


def reject(change: HeldChange, admin, reason: str) -> None:
    """The held texts are refused for the reason given; the public texts stay."""
    _decide(change, admin, ReviewStatus.REJECTED, reason)
    notify_practitioner(change.practitioner, "Your profile text needs changes", "claims_rejected", reason=reason)


def _decide(change: HeldChange, admin, status: ReviewStatus, reason: str) -> None:
    change.status = status
    change.reason = reason
    change.decided_at = utcnow()
    change.decided_by = admin
    db.session.flush()
    record_audit(admin, f"claims.{status.value}", change, after={"fields": sorted(change.values), "reason": reason})


def blocks_publishing(practitioner: Practitioner) -> bool:
    """An unpublished profile with held text waits for the review before it goes public."""
    return not practitioner.published and pending_change(practitioner) is not None


def review_summary(practitioner: Practitioner) -> dict:
    """The review state for the practitioner's own pages and the API's `review` object."""
    change = pending_change(practitioner)
    if change is not None:
        return {
            "status": "pending",
            "flags": change.flags,
            "reason": "",
            "pending": dict(change.values),
            "requested": change.review_requested,
        }
    decided = latest_decision(practitioner)
    if decided is not None and decided.status == ReviewStatus.REJECTED:
        return {
            "status": "rejected",
            "flags": decided.flags,
            "reason": decided.reason,
            "pending": {},
            "requested": False,
        }
    return {"status": "approved", "flags": [], "reason": "", "pending": {}, "requested": False}
