"""Writing parsed CSV rows: practitioners created or updated by email, in one transaction.

Importing the same file again updates, never duplicates: the file's locations replace the
practitioner's, its conditions replace theirs, its credentials are added or updated (others
are kept). Fields of optional columns the file does not have are left as they are (a new
practitioner gets the defaults); a location's phone and opening hours are the editor's. A credential goes back to verification by the one rule of
`directory.practitioners.rules` (a changed body, code, number, date or evidence).

Decisions made on the site win over the file: a profile its owner or an admin unpublished
stays unpublished (`Practitioner.unpublished_by`), and a text the practitioner edited since
it was imported (`Practitioner.texts_edited`) is kept until the file says the same. Both are
reported. The texts patients read (the name shown, the practice name) go through the claims
screening of the profile editor (`claims.service.submit_imported_texts`): a flagged text is
held for review, the public keeps the last approved one, and a profile not yet public stays
unpublished until an admin approves; the report names each. A file is read as a stream: every
row is validated and spooled to disk first (`spool.RowSpool`), then written a batch of
practitioners at a time, so memory stays flat.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.claims.service import AWAITING_REVIEW, active_phrases, pending_changes, submit_imported_texts
from directory.claims.texts import label
from directory.csv_io.format import MAX_FILE_CHARS, OPTIONAL_COLUMNS, CsvImportError, address_key, point
from directory.csv_io.parser import ParsedRow, Reference, read_rows
from directory.csv_io.spool import RowSpool
from directory.extensions import db
from directory.models import Certification, HeldChange, PracticeLocation, Practitioner, VerificationStatus
from directory.models.base import utcnow
from directory.models.practitioners import IMPORTED_TEXTS
from directory.practitioners import rules
from directory.practitioners.profiles import record_unpublished

# Practitioners written per flush; each batch leaves the session once flushed.
WRITE_BATCH = 500
# Lines the report lists of each kind (every one is counted); a big file's changes are not all kept.
REPORT_LINES = 10_000
WHO = {"owner": "its owner", "admin": "an administrator"}
TEXT_NAMES = {"display_name": "name", "practice_name": "practice name"}


@dataclass
class ImportReport:
    """What an import did (or, with dry_run, would do)."""

    rows: int = 0
    practitioners_created: int = 0
    practitioners_updated: int = 0
    practitioners_unchanged: int = 0
    locations_created: int = 0
    locations_updated: int = 0
    locations_removed: int = 0
    certifications_created: int = 0
    certifications_updated: int = 0
    certifications_verified: int = 0
    # Decisions the import respected: profiles left unpublished, practitioners' texts kept.
    kept_unpublished: int = 0
    kept_texts: int = 0
    # Profiles with a text of the file held by the claims screening (with dry_run: that would be).
    held_for_review: int = 0
    dry_run: bool = False
    changes: list[str] = field(default_factory=list)
    # What the import left as the site has it, one line each (also listed in `changes`).
    decisions: list[str] = field(default_factory=list)
    # The file's texts held for review, one line per profile (also listed in `changes`).
    held: list[str] = field(default_factory=list)
    lines_left_off: int = 0

    def note(self, line: str, decision: bool = False, held: bool = False) -> None:
        """Add a line to `changes` (and `decisions` or `held`), up to REPORT_LINES of each."""
        for lines, wanted in ((self.changes, True), (self.decisions, decision), (self.held, held)):
            if not wanted:
                continue
            if len(lines) < REPORT_LINES:
                lines.append(line)
            elif lines is self.changes:
                self.lines_left_off += 1

    def summary(self) -> str:
        """One paragraph for the command line or a flash message."""
        verb = "Would import" if self.dry_run else "Imported"
        return (
            f"{verb} {self.rows} rows: practitioners {self.practitioners_created} created, "
            f"{self.practitioners_updated} updated, {self.practitioners_unchanged} unchanged; "
            f"locations {self.locations_created} created, {self.locations_updated} updated, "
            f"{self.locations_removed} removed; certifications {self.certifications_created} created, "
            f"{self.certifications_updated} updated, {self.certifications_verified} marked verified; "
            f"{self.kept_unpublished} unpublished profile(s) left unpublished, "
            f"{self.kept_texts} text(s) edited by practitioners kept. "
            f"{self.held_for_review} profile(s) {'would be ' if self.dry_run else ''}held for review (claims)."
        )


def _location_key(loc: PracticeLocation) -> tuple:
    address = address_key(loc.address, loc.city, loc.region, loc.postal_code, loc.country)
    return address, point(loc.latitude, loc.longitude)


def _group(rows: Iterable[ParsedRow]) -> dict[str, list[ParsedRow]]:
    groups: dict[str, list[ParsedRow]] = {}
    for row in rows:
        groups.setdefault(row.email, []).append(row)
    return groups


def _existing(emails: list[str]) -> dict[str, Practitioner]:
    """The practitioners already on file for these (lower-case) emails, with what the import compares."""
    found: dict[str, Practitioner] = {}
    for start in range(0, len(emails), 500):
        query = (
            select(Practitioner)
            # Emails are stored lower-case: a plain comparison uses the unique index.
            .where(Practitioner.email.in_(emails[start : start + 500]))
            .options(
                selectinload(Practitioner.locations),
                selectinload(Practitioner.conditions),
                selectinload(Practitioner.certifications),
            )
        )
        found.update({p.email: p for p in db.session.execute(query).scalars()})
    return found


@dataclass
class _Texts:
    """The claims screening of one practitioner's texts: the phrase list and their pending change."""

    phrases: list[tuple[str, str]]
    change: HeldChange | None
    # The file's texts the screening held, by field, with the phrases found: {field: (text, phrases)}.
    held: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    new_hold: bool = False


def _apply_practitioner(
    p: Practitioner, first: ParsedRow, rows: list[ParsedRow], ref: Reference, texts: _Texts
) -> tuple[list[str], list[str]]:
    """Copy the file's practitioner fields; (the fields that changed, what was kept as the site has it).

    The texts patients read go through the claims screening: a flagged one is held for review
    (in `texts.held`), and a profile that is not public yet then stays unpublished until the
    review (claims.service.approve publishes it).
    """
    changed, kept = [], []
    conditions: list[str] = list(dict.fromkeys(slug for row in rows for slug in row.conditions))
    wanted = {
        "display_name": first.name,
        "practice_name": first.practice_name,
        "accepting_new_patients": first.accepting_new_patients,
        "session_minutes": first.session_minutes,
        "languages": rules.languages(";".join(first.languages)),
        "phone": first.phone,
        "website": first.website,
        "published": True,
    }
    wanted |= {name: getattr(first, name) for name in OPTIONAL_COLUMNS if name not in first.absent}
    held_before = dict(texts.change.values) if texts.change is not None else {}
    edited = dict(p.texts_edited or {})
    for name in IMPORTED_TEXTS:
        if name not in edited:
            continue
        # What the practitioner wrote last: held for review, or public.
        if held_before.get(name, getattr(p, name)) == wanted[name]:
            del edited[name]  # the file says what the practitioner wrote: later files apply again
        else:
            del wanted[name]
            kept.append(f"kept the {TEXT_NAMES[name]} the practitioner edited on {_day(edited[name])}")
    if edited != (p.texts_edited or {}):
        p.texts_edited = edited or None
    changed += _screen_texts(p, {name: wanted.pop(name) for name in IMPORTED_TEXTS if name in wanted}, texts)
    if p.unpublished_by not in (None, AWAITING_REVIEW) and not p.published:
        del wanted["published"]
        kept.append(
            f"left unpublished (unpublished by {WHO.get(p.unpublished_by, p.unpublished_by)}"
            + (f" on {p.unpublished_at.date().isoformat()})" if p.unpublished_at else ")")
        )
    elif not p.published and texts.change is not None:
        # Not public yet, with text held: published when an admin approves it, as the editor's drafts wait.
        del wanted["published"]
        if p.unpublished_by != AWAITING_REVIEW:
            record_unpublished(p, AWAITING_REVIEW)
    elif p.unpublished_by == AWAITING_REVIEW:
        record_unpublished(p, None)  # nothing held any more: published as the file says
    for attr, value in wanted.items():
        if getattr(p, attr) != value:
            setattr(p, attr, value)
            changed.append(attr)
    if {c.slug for c in p.conditions} != set(conditions):
        p.conditions = sorted((ref.conditions[s] for s in conditions), key=lambda c: c.sort_order)
        changed.append("conditions")
    return changed, kept


def _screen_texts(p: Practitioner, values: dict[str, str], texts: _Texts) -> list[str]:
    """Submit the file's texts to the claims screening; the fields that went live."""
    before = {name: getattr(p, name) or "" for name in values}
    held_before = dict(texts.change.values) if texts.change is not None else {}
    flags, texts.change = submit_imported_texts(p, values, texts.phrases, texts.change)
    for flag in flags:
        text, phrases = texts.held.setdefault(flag.field, (values[flag.field], []))
        if flag.phrase not in phrases:
            phrases.append(flag.phrase)
    texts.new_hold = any(held_before.get(name) != text for name, (text, _) in texts.held.items())
    return [name for name in values if (getattr(p, name) or "") != before[name]]


def _held_line(texts: _Texts) -> str:
    """The file's texts held for review, as the report names them."""
    return "held for review (claims): " + "; ".join(
        f"{label(name).lower()} {_shorten(text)!r} ({', '.join(phrases)})"
        for name, (text, phrases) in texts.held.items()
    )


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _day(moment: str) -> str:
    """The day of an ISO time."""
    try:
        return datetime.fromisoformat(moment).date().isoformat()
    except (TypeError, ValueError):
        return "an unknown day"


def _pair_locations(p: Practitioner, rows: list[ParsedRow]) -> tuple[list, list[PracticeLocation]]:
    """(row, location or None) pairs in file order, and the locations the file no longer has.

    Matched by the same address and point first, then the same address (moved), then the same
    point (renamed).
    """
    wanted: dict[tuple, ParsedRow] = {}
    for row in rows:
        wanted.setdefault(row.location_key, row)
    unmatched = list(p.locations)
    pairs: list[tuple[ParsedRow, PracticeLocation | None]] = []
    for part in (slice(0, 2), slice(0, 1), slice(1, 2)):
        for key, row in list(wanted.items()):
            match = next((loc for loc in unmatched if _location_key(loc)[part] == key[part]), None)
            if match is not None:
                unmatched.remove(match)
                pairs.append((row, match))
                del wanted[key]
    pairs.extend((row, None) for row in wanted.values())
    pairs.sort(key=lambda pair: pair[0].line)
    return pairs, unmatched


def _apply_locations(p: Practitioner, rows: list[ParsedRow], report: ImportReport) -> tuple[int, int, int]:
    """Make the practitioner's locations those of the file; (created, updated, removed)."""
    pairs, unmatched = _pair_locations(p, rows)
    created = updated = 0
    for row, location in pairs:
        values = {
            "address": row.address,
            "city": row.city,
            "region": row.region,
            "postal_code": row.postal_code,
            "country": row.country,
            "latitude": row.latitude,
            "longitude": row.longitude,
        }
        if location is None:
            p.locations.append(PracticeLocation(**values))
            created += 1
        elif any(getattr(location, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(location, k, v)
            updated += 1
    for location in unmatched:
        p.locations.remove(location)
    report.locations_created += created
    report.locations_updated += updated
    report.locations_removed += len(unmatched)
    return created, updated, len(unmatched)


def _pair_credentials(
    p: Practitioner, wanted: dict[tuple[str, str], date | None], ref: Reference
) -> list[tuple[str, str, date | None, Certification | None]]:
    """The file's credentials with the certification each updates (None: a new one).

    The same body and code first; then a credential of a body the practitioner holds one other,
    unlisted credential of is a change of code (CST-T to CST-D), not a second credential.
    """
    body_slug = {b.id: slug for slug, b in ref.bodies.items()}
    unmatched = {(body_slug.get(c.body_id, ""), c.credential): c for c in p.certifications}
    pairs, new = [], []
    for (slug, code), expires_on in wanted.items():
        cert = unmatched.pop((slug, code), None)
        (pairs if cert is not None else new).append((slug, code, expires_on, cert))
    for slug, code, expires_on, _ in new:
        others = [key for key in unmatched if key[0] == slug]
        cert = unmatched.pop(others[0]) if others else None
        pairs.append((slug, code, expires_on, cert))
    return pairs


def _apply_credentials(
    p: Practitioner, rows: list[ParsedRow], ref: Reference, mark_verified: str | None, report: ImportReport
) -> tuple[int, int, int]:
    """Add or update the file's credentials; credentials not in the file are left alone."""
    wanted = {(slug, code): expires_on for row in rows for slug, code, expires_on in row.credentials}
    created = updated = verified = 0
    for slug, code, expires_on, cert in _pair_credentials(p, wanted, ref):
        if cert is None:
            cert = Certification(body=ref.bodies[slug], credential=code, expires_on=expires_on)
            cert.status = VerificationStatus.PENDING
            p.certifications.append(cert)
            created += 1
        else:
            before = rules.credential_facts(cert)
            cert.credential, cert.expires_on = code, expires_on
            if rules.needs_review(cert, before):
                updated += 1
                # The source named by mark_verified vouches for the new facts; otherwise they are checked again.
                if not mark_verified:
                    rules.review_if_changed(cert, before)
        if mark_verified and not (
            cert.status == VerificationStatus.VERIFIED and cert.verification_source == mark_verified
        ):
            cert.mark_verified(mark_verified)
            verified += 1
    report.certifications_created += created
    report.certifications_updated += updated
    report.certifications_verified += verified
    return created, updated, verified


def _import_practitioner(
    email: str,
    group: list[ParsedRow],
    p: Practitioner | None,
    ref: Reference,
    mark_verified,
    report: ImportReport,
    texts: _Texts,
) -> Practitioner:
    """Create or update one practitioner from their rows and add a line to the report."""
    first = group[0]
    is_new = p is None
    if is_new:
        # The texts start blank and come in through the claims screening, as a new profile's do in the editor.
        p = Practitioner(email=email, display_name="", published=False)
        db.session.add(p)
    changed, kept = _apply_practitioner(p, first, group, ref, texts)
    loc_new, loc_changed, loc_removed = _apply_locations(p, group, report)
    cert_new, cert_changed, cert_verified = _apply_credentials(p, group, ref, mark_verified, report)
    name = p.display_name or first.name
    if is_new:
        p.imported_at = utcnow()
        report.practitioners_created += 1
        report.note(
            f"line {first.line}: new practitioner {first.name} <{email}>: "
            f"{loc_new} location(s), {cert_new} credential(s)"
            + (f", {cert_verified} marked verified" if cert_verified else "")
            + (", unpublished until its held text is reviewed" if texts.held else "")
        )
        _note_held(report, f"line {first.line}: {name} <{email}>", texts)
        return p
    for line in kept:
        report.note(f"line {first.line}: {name} <{email}>: {line}", decision=True)
    report.kept_unpublished += sum(line.startswith("left unpublished") for line in kept)
    report.kept_texts += sum(line.startswith("kept the") for line in kept)
    parts = []
    if changed:
        parts.append("changed " + ", ".join(changed))
    if texts.new_hold:
        parts.append("text held for review")
    if loc_new or loc_changed or loc_removed:
        parts.append(f"locations {loc_new} added, {loc_changed} updated, {loc_removed} removed")
    if cert_new or cert_changed:
        parts.append(f"credentials {cert_new} added, {cert_changed} updated")
    if cert_verified:
        parts.append(f"{cert_verified} credential(s) marked verified")
    if parts:
        p.imported_at = utcnow()
        report.practitioners_updated += 1
        report.note(f"line {first.line}: {name} <{email}>: " + "; ".join(parts))
    else:
        report.practitioners_unchanged += 1
    _note_held(report, f"line {first.line}: {name} <{email}>", texts)
    return p


def _note_held(report: ImportReport, who: str, texts: _Texts) -> None:
    """Count and name a profile whose texts from the file the screening held."""
    if texts.held:
        report.held_for_review += 1
        report.note(f"{who}: {_held_line(texts)}", held=True)


def _batches(groups: Iterable[tuple[str, list[ParsedRow]]]) -> Iterator[list[tuple[str, list[ParsedRow]]]]:
    batch = []
    for item in groups:
        batch.append(item)
        if len(batch) >= WRITE_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _write(
    groups: Iterable[tuple[str, list[ParsedRow]]], rows: int, ref: Reference, mark_verified, dry_run: bool
) -> ImportReport:
    """Write the practitioners a batch at a time and flush; the caller commits (rolled back on error or dry_run).

    Each flushed batch leaves the session (the caller's own objects stay), so a large file does
    not pile up in memory; the transaction still holds everything until the caller commits.
    """
    report = ImportReport(rows=rows, dry_run=dry_run)
    held = set(db.session.identity_map.keys())
    try:
        phrases = active_phrases()  # once per file: the screening of every text uses the same list
        for batch in _batches(groups):
            existing = _existing([email for email, _ in batch])
            changes = pending_changes([p.id for p in existing.values()])
            written = []
            with db.session.no_autoflush:
                for email, group in batch:
                    p = existing.get(email)
                    texts = _Texts(phrases, changes.get(p.id) if p is not None else None)
                    written.append(_import_practitioner(email, group, p, ref, mark_verified, report, texts))
                    if texts.change is not None:
                        written.append(texts.change)
            db.session.flush()
            for record in written:
                if db.session.identity_key(instance=record) not in held:
                    db.session.expunge(record)
        if dry_run:
            db.session.rollback()
    except Exception:
        db.session.rollback()
        raise
    return report


def import_rows(rows: list[ParsedRow], mark_verified: str | None = None, dry_run: bool = False) -> ImportReport:
    """Add parsed rows to the session and flush; the caller commits (rolled back with dry_run or on any error)."""
    return _write(_group(rows).items(), len(rows), Reference(), mark_verified, dry_run)


def _source(mark_verified: str | None) -> str | None:
    if mark_verified is not None:
        mark_verified = mark_verified.strip()
        if not mark_verified or len(mark_verified) > 200:
            raise CsvImportError(1, "the verification source must be 1 to 200 characters")
    return mark_verified


def import_practitioners(text: str, mark_verified: str | None = None, dry_run: bool = False) -> ImportReport:
    """Validate and import a CSV text; CsvImportError (nothing written) on the first bad row."""
    if len(text) > MAX_FILE_CHARS:
        raise CsvImportError(1, f"the file is too large (at most {MAX_FILE_CHARS // (1024 * 1024)} MB)")
    return import_stream(io.StringIO(text.removeprefix("\ufeff"), newline=""), mark_verified, dry_run)


def import_stream(
    lines: IO[str] | Iterable[str], mark_verified: str | None = None, dry_run: bool = False
) -> ImportReport:
    """Validate and import CSV lines of any length (a text stream opened with newline="", UTF-8).

    Every row is checked and spooled to disk before the first is written; CsvImportError
    (nothing written) on the first bad row. Memory does not grow with the file.
    """
    mark_verified = _source(mark_verified)
    ref = Reference()
    with RowSpool() as spool:
        for row in read_rows(lines, ref):
            spool.add(row)
        return _write(spool.groups(), spool.rows, ref, mark_verified, dry_run)
