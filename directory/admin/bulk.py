"""Bulk verification from a certifying body's member register (the CSV import format).

The admin uploads the register; `plan_register()` works out, without writing anything, which
certifications on file it confirms; the preview shows that plan. The text waits on the server
under a random id (UPLOAD_FOLDER/registers/) until the admin applies it, when the plan is worked
out again from the current data and applied in one transaction. Only certifications of the
chosen body, held by a practitioner with the register's email, are touched; nobody is created.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.admin.notices import notify_practitioner
from directory.audit import record_audit, snapshot
from directory.csv_io import parse_csv
from directory.extensions import db
from directory.models import Certification, CertifyingBody, Practitioner, User, VerificationStatus
from directory.models.base import today

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# Uploaded registers not applied within a day are removed at the next upload.
KEEP_SECONDS = 24 * 3600
CERT_FIELDS = ("status", "verification_source", "verification_note", "rejection_reason", "verified_at", "expires_on")


class RegisterNotFound(Exception):
    """The uploaded register is gone (applied already, expired, or a bad id)."""


@dataclass
class Change:
    """One certification the register confirms."""

    line: int
    cert: Certification
    old_status: str
    old_expires_on: date | None
    new_expires_on: date | None

    @property
    def description(self) -> str:
        """What will change, in words."""
        p = self.cert.practitioner
        parts = [] if self.old_status == "verified" else [f"{self.old_status} → verified"]
        if self.old_expires_on != self.new_expires_on:
            parts.append(f"expiry {self.old_expires_on or 'none'} → {self.new_expires_on or 'none'}")
        return f"line {self.line}: {p.display_name} <{p.email}>: {self.cert.credential}: " + ", ".join(parts)


@dataclass
class RegisterPlan:
    """What applying a register would do."""

    body: CertifyingBody
    rows: int = 0
    changes: list[Change] = field(default_factory=list)
    already_verified: list[str] = field(default_factory=list)
    not_on_file: list[str] = field(default_factory=list)
    other_bodies: int = 0


def source_for(body: CertifyingBody) -> str:
    """The verification source recorded on credentials a body's register confirmed."""
    return f"register:{body.slug}"


def plan_register(text: str, body: CertifyingBody) -> RegisterPlan:
    """Parse the register (CsvImportError if it is not valid) and list what it would change."""
    rows = parse_csv(text)
    plan = RegisterPlan(body=body, rows=len(rows))
    wanted: dict[tuple[str, str], tuple[int, date | None]] = {}
    for row in rows:
        for slug, code, expires_on in row.credentials:
            if slug != body.slug:
                plan.other_bodies += 1
                continue
            wanted[(row.email, code.upper())] = (row.line, expires_on)
    emails = sorted({email for email, _ in wanted})
    practitioners: dict[str, Practitioner] = {}
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        query = (
            select(Practitioner).where(Practitioner.email.in_(chunk)).options(selectinload(Practitioner.certifications))
        )
        practitioners.update({p.email: p for p in db.session.execute(query).scalars()})
    for (email, code), (line, expires_on) in sorted(wanted.items(), key=lambda item: item[1][0]):
        p = practitioners.get(email)
        certs = (
            [] if p is None else [c for c in p.certifications if c.body_id == body.id and c.credential.upper() == code]
        )
        if not certs:
            plan.not_on_file.append(f"line {line}: {email}: {code} is not on file in the directory")
            continue
        for cert in certs:
            if cert.status == VerificationStatus.VERIFIED and cert.expires_on == expires_on:
                plan.already_verified.append(f"line {line}: {p.display_name} <{p.email}>: {cert.credential}")
                continue
            plan.changes.append(Change(line, cert, cert.status.value, cert.expires_on, expires_on))
    return plan


def apply_register(text: str, body: CertifyingBody, admin: User, filename: str = "") -> RegisterPlan:
    """Mark every certification the register confirms verified (source: the register); audit and notify."""
    plan = plan_register(text, body)
    note = f"Found in the member register {filename or 'upload'} of {body.name}, uploaded {today().isoformat()}."
    for change in plan.changes:
        cert = change.cert
        before = snapshot(cert, *CERT_FIELDS)
        was_verified = cert.status == VerificationStatus.VERIFIED
        cert.expires_on = change.new_expires_on
        cert.mark_verified(source_for(body), by=admin, note=note)
        record_audit(admin, "certification.bulk_verified", cert, before=before, after=snapshot(cert, *CERT_FIELDS))
        if not was_verified:
            notify_practitioner(
                cert.practitioner, f"Your {cert.credential} credential is verified", "credential_verified", cert=cert
            )
    record_audit(
        admin,
        "register.applied",
        body,
        after={
            "file": filename,
            "rows": plan.rows,
            "verified": len(plan.changes),
            "not_on_file": len(plan.not_on_file),
        },
    )
    return plan


# --- The uploaded text, kept between the preview and the apply --------------------------------


def _folder() -> str:
    folder = os.path.join(current_app.config["UPLOAD_FOLDER"], "registers")
    os.makedirs(folder, exist_ok=True)
    return folder


def _path(token: str) -> str:
    if not TOKEN_RE.match(token or ""):
        raise RegisterNotFound(token)
    return os.path.join(_folder(), f"{token}.json")


def store_upload(text: str, body_id: int, filename: str, admin_id: int) -> str:
    """Keep an uploaded register until it is applied; returns its random id."""
    folder = _folder()
    cutoff = time.time() - KEEP_SECONDS
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if name.endswith(".json") and os.path.getmtime(path) < cutoff:
            os.remove(path)
    token = secrets.token_urlsafe(24)
    with open(_path(token), "w", encoding="utf-8") as out:
        json.dump({"text": text, "body_id": body_id, "filename": filename, "admin_id": admin_id}, out)
    return token


def load_upload(token: str) -> dict:
    """The stored register (text, body_id, filename, admin_id); RegisterNotFound if gone."""
    try:
        with open(_path(token), encoding="utf-8") as src:
            return json.load(src)
    except (OSError, ValueError):
        raise RegisterNotFound(token) from None


def discard_upload(token: str) -> None:
    """Remove a stored register once applied."""
    try:
        os.remove(_path(token))
    except (OSError, RegisterNotFound):
        pass
