"""The audit page's words for records: "Jane Doe's CST-T from Upledger Institute International", with a link.

An entry stores only the record's type and id; names are looked up when the page is shown (one
query per record type on the page), so they read as the records are called now. A record that
no longer exists is named from the values the entry kept, or by type and id.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError

from directory.extensions import db
from directory.models import AuditLog, Role, VerificationStatus
from directory.models.accounts import ProviderStatus


@dataclass(frozen=True)
class RecordLabel:
    """How the audit page names a record, and where the record is (None: nowhere to go)."""

    text: str
    url: str | None = None


def _link(endpoint: str, **values) -> str | None:
    """A link to an admin page, or None when that page is not part of this site."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _certification(cert) -> RecordLabel:
    p = cert.practitioner
    text = f"{p.display_name}'s {cert.credential} from {cert.body.name}"
    if cert.status == VerificationStatus.PENDING:
        return RecordLabel(text, _link("admin.credentials", q=p.email, _anchor=f"cert-{cert.id}"))
    return RecordLabel(text, _link("admin.practitioners", q=p.email, _anchor=f"practitioner-{p.id}"))


def _practitioner(p) -> RecordLabel:
    return RecordLabel(
        f"{p.display_name}'s profile", _link("admin.practitioners", q=p.email, _anchor=f"practitioner-{p.id}")
    )


def _user(user) -> RecordLabel:
    if user.role == Role.PROVIDER:
        text = f"{user.display_name}'s provider account"
        if user.provider_status == ProviderStatus.PENDING:
            return RecordLabel(text, _link("admin.providers", _anchor=f"provider-{user.id}"))
    else:
        text = f"{user.display_name}'s account"
    return RecordLabel(text, _link("admin.users", q=user.email, _anchor=f"user-{user.id}"))


def _condition(condition) -> RecordLabel:
    return RecordLabel(
        f"the condition “{condition.name}”", _link("admin.conditions", _anchor=f"condition-{condition.id}")
    )


def _body(body) -> RecordLabel:
    return RecordLabel(body.name, _link("admin.edit_body", body_id=body.id))


def _credential(credential) -> RecordLabel:
    return RecordLabel(
        f"{credential.code} of {credential.body.name}",
        _link("admin.edit_credential", body_id=credential.body_id, credential_id=credential.id),
    )


def _referral(referral) -> RecordLabel:
    text = f"referral #{referral.id} from {referral.referrer_name or 'a provider'} to {referral.practitioner_name or 'a practitioner'}"
    return RecordLabel(text, _link("referrals.detail", referral_id=referral.id))


def _held_change(change) -> RecordLabel:
    return RecordLabel(
        f"{change.practitioner.display_name}'s held text changes", _link("admin.review", change_id=change.id)
    )


# Record type (as `record_audit` names it) -> (model class name, the relations its label reads, labeler).
LABELERS = {
    "Certification": ("Certification", ("practitioner", "body"), _certification),
    "Practitioner": ("Practitioner", (), _practitioner),
    "User": ("User", (), _user),
    "Condition": ("Condition", (), _condition),
    "CertifyingBody": ("CertifyingBody", (), _body),
    "Credential": ("Credential", ("body",), _credential),
    "Referral": ("Referral", (), _referral),
    "referral": ("Referral", (), _referral),
    "HeldChange": ("HeldChange", ("practitioner",), _held_change),
}


def _models() -> dict[str, type]:
    """Every mapped model class by name."""
    return {mapper.class_.__name__: mapper.class_ for mapper in db.Model.registry.mappers}


def _gone(entry: AuditLog) -> RecordLabel:
    """The label of a record that no longer exists: its name as the entry kept it, if it kept one."""
    for values in (entry.before or {}, entry.after or {}):
        for key in ("name", "display_name", "code", "email"):
            if isinstance(values.get(key), str) and values[key]:
                return RecordLabel(f"{entry.object_type} “{values[key]}” (no longer exists)")
    return RecordLabel(f"{entry.object_type} {entry.object_id} (no longer exists)")


def label_records(entries: list[AuditLog]) -> dict[int, RecordLabel]:
    """The label of each entry's record, by entry id (entries without a record are left out)."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        if entry.object_type in LABELERS and entry.object_id.isdigit():
            wanted[entry.object_type].add(int(entry.object_id))
    models = _models()
    found: dict[tuple[str, int], RecordLabel] = {}
    for object_type, ids in wanted.items():
        model_name, relations, labeler = LABELERS[object_type]
        model = models.get(model_name)
        if model is None:
            continue
        query = select(model).where(model.id.in_(ids))
        if relations:
            query = query.options(*(selectinload(getattr(model, name)) for name in relations))
        for record in db.session.execute(query).scalars():
            found[(object_type, record.id)] = labeler(record)
    labels = {}
    for entry in entries:
        if not entry.object_type and not entry.object_id:
            continue
        key = (entry.object_type, int(entry.object_id)) if entry.object_id.isdigit() else None
        if key in found:
            labels[entry.id] = found[key]
        elif entry.object_type in LABELERS:
            labels[entry.id] = _gone(entry)
        else:
            labels[entry.id] = RecordLabel(f"{entry.object_type} {entry.object_id}".strip())
    return labels
