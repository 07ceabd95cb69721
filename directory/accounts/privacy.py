"""Privacy rights: a copy of everything held about an account, and deleting it."""

from __future__ import annotations

import logging
import os
from datetime import date, datetime

from flask import current_app
from sqlalchemy import or_, select, update

from directory.accounts.passwords import verify_password
from directory.accounts.service import AccountError
from directory.extensions import db
from directory.models import Practitioner, Referral, User

log = logging.getLogger(__name__)

# Never exported: they would let the file's reader act as the account.
SECRET_USER_FIELDS = {"password_hash", "session_token"}


def _plain(value):
    """A JSON-friendly copy of a column value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def _columns(row, skip: set[str] = frozenset()) -> dict:
    """Every column of a row as a dict."""
    return {c.key: _plain(getattr(row, c.key)) for c in row.__mapper__.column_attrs if c.key not in skip}


def _profile(practitioner: Practitioner) -> dict:
    """A practitioner profile with everything that hangs off it."""
    data = _columns(practitioner)
    data["conditions"] = [c.slug for c in practitioner.conditions]
    data["locations"] = [_columns(loc, {"condition_bits"}) for loc in practitioner.locations]
    data["trainings"] = [_columns(t) for t in practitioner.trainings]
    data["licences"] = [_columns(lic) for lic in practitioner.licenses]
    data["certifications"] = [
        {**_columns(c, {"evidence_path"}), "body": c.body.name if c.body else None} for c in practitioner.certifications
    ]
    data["enquiries"] = [_columns(e) for e in practitioner.enquiries]
    return data


def export_account(user: User) -> dict:
    """Everything held about the account, without its secrets."""
    practitioner = user.practitioner
    conditions = [Referral.referrer_id == user.id]
    if practitioner is not None:
        conditions.append(Referral.practitioner_id == practitioner.id)
    referrals = db.session.execute(select(Referral).where(or_(*conditions)).order_by(Referral.id)).scalars().all()
    return {
        "user": _columns(user, SECRET_USER_FIELDS),
        "practitioner": _profile(practitioner) if practitioner is not None else None,
        "api_tokens": [_columns(t, {"token_hash", "user_id"}) for t in user.api_tokens],
        "referrals_sent": [
            {"id": r.id, "status": r.status, "created_at": _plain(r.created_at)}
            for r in referrals
            if r.referrer_id == user.id
        ],
        "referrals_received": [
            {"id": r.id, "status": r.status, "created_at": _plain(r.created_at)}
            for r in referrals
            if practitioner is not None and r.practitioner_id == practitioner.id
        ],
    }


def delete_account(user: User, password: str) -> list[str]:
    """Delete the account and its profile after checking the password, and flush.

    The profile leaves search once the caller commits. Referrals that other people hold stay,
    with the names of both parties kept; their links to the deleted rows become NULL.
    Returns the profile's evidence files, for `remove_evidence_files` after the commit.
    """
    if not verify_password(user.password_hash, password):
        raise AccountError("That password is not right.")
    practitioner = user.practitioner
    evidence = []
    if practitioner is not None:
        evidence = [c.evidence_path for c in practitioner.certifications if c.evidence_path]
        db.session.execute(
            update(Referral)
            .where(Referral.practitioner_id == practitioner.id, Referral.practitioner_name == "")
            .values(practitioner_name=practitioner.display_name[:120])
        )
        db.session.execute(
            update(Referral).where(Referral.practitioner_id == practitioner.id).values(practitioner_id=None)
        )
        db.session.delete(practitioner)
    db.session.execute(
        update(Referral)
        .where(Referral.referrer_id == user.id, Referral.referrer_name == "")
        .values(referrer_name=user.display_name[:120])
    )
    db.session.execute(update(Referral).where(Referral.referrer_id == user.id).values(referrer_id=None))
    db.session.delete(user)
    db.session.flush()
    return evidence


def remove_evidence_files(names: list[str]) -> None:
    """Remove uploaded evidence files of a deleted profile (only inside the upload folder).

    Call it after the deletion was committed: files go only once the rows are gone for good.
    """
    folder = os.path.realpath(current_app.config["UPLOAD_FOLDER"])
    for name in names:
        path = os.path.realpath(os.path.join(folder, name))
        if os.path.commonpath([folder, path]) != folder:
            continue
        try:
            os.remove(path)
        except OSError as error:
            log.warning("Could not remove evidence file %s: %s", name, error)
