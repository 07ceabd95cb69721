"""The condition taxonomy and the registry of certifying bodies, as admins edit them.

Each function changes the records and adds the audit entry in the caller's transaction;
the caller commits.
"""

from __future__ import annotations

import re

from sqlalchemy import and_, delete, func, insert, select

from directory.audit import record_audit, snapshot
from directory.extensions import db
from directory.models import CertifyingBody, Condition, Credential, Practitioner, User
from directory.models.practitioners import practitioner_conditions
from directory.models.referrals import referral_conditions

# PracticeLocation.condition_bits is a signed 64-bit integer: bits 0..62 are usable.
MAX_BIT = 62
BODY_FIELDS = ("slug", "name", "website", "description")
CREDENTIAL_FIELDS = ("code", "name", "requirements")


class TaxonomyError(Exception):
    """The change would break the taxonomy or the registry (a clash, no free bit, ...)."""


def slugify(text: str) -> str:
    """A lower-case, hyphenated slug of a name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


def next_free_bit() -> int:
    """The lowest bit (0..62) no condition uses."""
    used = set(db.session.execute(select(Condition.bit)).scalars())
    for bit in range(MAX_BIT + 1):
        if bit not in used:
            return bit
    raise TaxonomyError("All 63 condition slots are in use: merge conditions before adding one.")


def add_condition(admin: User, name: str, slug: str = "") -> Condition:
    """Add a condition with the next free bit and put it last in the display order."""
    name = name.strip()
    slug = slug.strip() or slugify(name)
    if not slug:
        raise TaxonomyError("The name needs at least one letter or digit.")
    if db.session.execute(select(Condition).where(Condition.slug == slug)).first():
        raise TaxonomyError(f"A condition with the slug “{slug}” already exists.")
    if db.session.execute(select(Condition).where(func.lower(Condition.name) == name.lower())).first():
        raise TaxonomyError(f"A condition named “{name}” already exists.")
    last = db.session.execute(select(func.max(Condition.sort_order))).scalar() or 0
    condition = Condition(slug=slug, name=name, bit=next_free_bit(), sort_order=last + 1)
    db.session.add(condition)
    db.session.flush()
    record_audit(admin, "condition.created", condition, after=snapshot(condition, "slug", "name", "bit"))
    return condition


def rename_condition(condition: Condition, admin: User, name: str) -> None:
    """Change a condition's display name (its slug, used in links, stays)."""
    name = name.strip()
    clash = db.session.execute(
        select(Condition).where(func.lower(Condition.name) == name.lower(), Condition.id != condition.id)
    ).first()
    if clash:
        raise TaxonomyError(f"A condition named “{name}” already exists.")
    before = snapshot(condition, "name")
    condition.name = name
    record_audit(admin, "condition.renamed", condition, before=before, after=snapshot(condition, "name"))


def merge_condition(source: Condition, target: Condition, admin: User) -> dict:
    """Move every practitioner's and referral's choice of `source` to `target`, then delete `source`.

    Practitioners change through the ORM so that the flush hook recomputes their locations'
    condition bits; referrals change in their link table. Returns the counts moved.
    """
    if source.id == target.id:
        raise TaxonomyError("Choose a different condition to merge into.")
    practitioners = (
        db.session.execute(
            select(Practitioner)
            .join(practitioner_conditions, practitioner_conditions.c.practitioner_id == Practitioner.id)
            .where(practitioner_conditions.c.condition_id == source.id)
        )
        .scalars()
        .all()
    )
    for practitioner in practitioners:
        practitioner.conditions = [c for c in practitioner.conditions if c.id != source.id]
        if target not in practitioner.conditions:
            practitioner.conditions.append(target)
    db.session.flush()

    referral_ids = set(
        db.session.execute(
            select(referral_conditions.c.referral_id).where(referral_conditions.c.condition_id == source.id)
        ).scalars()
    )
    already = set(
        db.session.execute(
            select(referral_conditions.c.referral_id).where(
                and_(
                    referral_conditions.c.condition_id == target.id,
                    referral_conditions.c.referral_id.in_(referral_ids),
                )
            )
        ).scalars()
    )
    moved = sorted(referral_ids - already)
    if moved:
        db.session.execute(
            insert(referral_conditions), [{"referral_id": rid, "condition_id": target.id} for rid in moved]
        )
    db.session.execute(delete(referral_conditions).where(referral_conditions.c.condition_id == source.id))

    counts = {"practitioners": len(practitioners), "referrals": len(referral_ids)}
    record_audit(
        admin,
        "condition.merged",
        source,
        before=snapshot(source, "slug", "name", "bit"),
        after={"merged_into": target.slug, "merged_into_id": target.id, **counts},
    )
    db.session.delete(source)
    db.session.flush()
    return counts


def save_body(admin: User, body: CertifyingBody | None, data: dict) -> CertifyingBody:
    """Create a certifying body, or update one, from the form's data."""
    values = {k: (data.get(k) or "").strip() for k in BODY_FIELDS}
    clash = select(CertifyingBody).where(CertifyingBody.slug == values["slug"])
    if body is not None:
        clash = clash.where(CertifyingBody.id != body.id)
    if db.session.execute(clash).first():
        raise TaxonomyError(f"Another body already uses the slug “{values['slug']}”.")
    before = None if body is None else snapshot(body, *BODY_FIELDS)
    if body is None:
        body = CertifyingBody(**values)
        db.session.add(body)
    else:
        for key, value in values.items():
            setattr(body, key, value)
    db.session.flush()
    action = "body.created" if before is None else "body.updated"
    record_audit(admin, action, body, before=before, after=snapshot(body, *BODY_FIELDS))
    return body


def save_credential(admin: User, body: CertifyingBody, credential: Credential | None, data: dict) -> Credential:
    """Create or update a credential level a body awards."""
    values = {k: (data.get(k) or "").strip() for k in CREDENTIAL_FIELDS}
    clash = select(Credential).where(
        Credential.body_id == body.id, func.lower(Credential.code) == values["code"].lower()
    )
    if credential is not None:
        clash = clash.where(Credential.id != credential.id)
    if db.session.execute(clash).first():
        raise TaxonomyError(f"{body.name} already awards a credential coded “{values['code']}”.")
    before = None if credential is None else snapshot(credential, *CREDENTIAL_FIELDS)
    if credential is None:
        credential = Credential(body=body, **values)
        db.session.add(credential)
    else:
        for key, value in values.items():
            setattr(credential, key, value)
    db.session.flush()
    action = "credential.created" if before is None else "credential.updated"
    after = {**snapshot(credential, *CREDENTIAL_FIELDS), "body": body.slug}
    record_audit(admin, action, credential, before=before, after=after)
    return credential
