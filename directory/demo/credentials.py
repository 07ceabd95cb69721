"""A generated practitioner's qualifications: a credential by their country's mix, the training behind
it, and often a professional licence.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from directory.demo.data import CREDENTIAL_MIX, LICENSES, TRAINING_PROVIDER, TRAININGS
from directory.demo.rows import Ids
from directory.geocoding import get_gazetteer
from directory.models import Certification, ProfessionalLicense, Training, VerificationStatus

if TYPE_CHECKING:
    from directory.demo.generator import Person, Reference


def _credential_status(rng: random.Random, today_: date) -> tuple[VerificationStatus, date | None, bool]:
    """Status and expiry: most verified, some pending, a few rejected or expired."""
    roll = rng.random()
    if roll < 0.58:
        return VerificationStatus.VERIFIED, today_ + timedelta(days=rng.randint(60, 1100)), True
    if roll < 0.66:
        return VerificationStatus.VERIFIED, today_ - timedelta(days=rng.randint(5, 400)), True  # expired
    if roll < 0.95:
        return VerificationStatus.PENDING, today_ + timedelta(days=rng.randint(60, 1100)), False
    return VerificationStatus.REJECTED, None, False


def _held_credential(rng: random.Random, cc: str) -> tuple[str, str] | None:
    """(body slug, credential) by the country group's mix, or None for no credential."""
    group = "NA" if cc in ("US", "CA") else "UK" if cc in ("GB", "IE") else "OTHER"
    roll = rng.random() * 100
    for body_slug, credential, share in CREDENTIAL_MIX[group]:
        if roll < share:
            return body_slug, credential
        roll -= share
    return None


def certification_row(rng: random.Random, ids: Ids, person: Person, ref: Reference) -> tuple[dict | None, str | None]:
    """The practitioner's credential row (or None) and the key of the trainings that go with it."""
    held = _held_credential(rng, person.cc)
    if held is None:
        return None, None
    body_slug, credential = held
    status, expires_on, verified = _credential_status(rng, ref.today)
    rejected = status == VerificationStatus.REJECTED
    row = {
        "id": ids.take(Certification),
        "practitioner_id": person.pid,
        "body_id": ref.bodies[body_slug],
        "credential": credential,
        "credential_number": f"{body_slug[:2].upper()}-{rng.randint(10000, 99999)}",
        "issued_on": ref.today - timedelta(days=rng.randint(400, 6000)),
        "expires_on": expires_on,
        "status": status,
        "created_at": ref.now,
        "verified_at": ref.now if verified or rejected else None,
        "verified_by_id": None,
        "verification_source": "demo register" if verified else "",
        "verification_note": "",
        "rejection_reason": "The certifying body has no record of this number." if rejected else "",
        "evidence_path": "",
        "evidence_name": "",
        "evidence_mimetype": "",
        "expiry_warning_sent_for": None,
        "expiry_notice_sent_for": None,
    }
    return row, credential if body_slug == "upledger" else f"{body_slug}:{credential}"


def training_rows(rng: random.Random, ids: Ids, pid: int, training_key: str | None, ref: Reference) -> list[dict]:
    """The courses behind the credential, completed one after another."""
    rows = []
    completed = ref.today - timedelta(days=rng.randint(500, 7000))
    for course, hours in TRAININGS[training_key]:
        rows.append(
            {
                "id": ids.take(Training),
                "practitioner_id": pid,
                "course": course,
                "provider": TRAINING_PROVIDER[training_key],
                "hours": hours,
                "completed_on": completed,
            }
        )
        completed += timedelta(days=rng.randint(60, 400))
    return rows


def license_row(rng: random.Random, ids: Ids, person: Person) -> dict | None:
    """A professional licence for most practitioners (massage, physio, ...), or None."""
    if rng.random() >= 0.6:
        return None
    profession = rng.choice(LICENSES)
    return {
        "id": ids.take(ProfessionalLicense),
        "practitioner_id": person.pid,
        "profession": profession,
        "jurisdiction": person.region or get_gazetteer().country_name(person.cc),
        "number": f"{profession}-{rng.randint(100000, 999999)}",
        "expires_on": None,
    }
