"""The texts of a profile that patients read, by key, and how a held value is applied.

Keys: "display_name", "practice_name", "bio" (the practitioner), "location:<id>:label",
"location:<id>:hours_note" (a practice location), "training:<id>:course",
"training:<id>:provider" (a training). A key names one text of one record of this
practitioner; anything else is refused, so a held change can never write elsewhere.
"""

from __future__ import annotations

PRACTITIONER_TEXTS = ("display_name", "practice_name", "bio")
LOCATION_TEXTS = ("label", "hours_note")
TRAINING_TEXTS = ("course", "provider")
LABELS = {
    "display_name": "Name shown",
    "practice_name": "Practice name",
    "bio": "About",
    "label": "Location name",
    "hours_note": "Opening hours note",
    "course": "Training course",
    "provider": "Training provider",
}


def _target(practitioner, key: str):
    """(record, attribute) named by a key, or None when the key names nothing of this practitioner's."""
    if key in PRACTITIONER_TEXTS:
        return practitioner, key
    kind, _, rest = key.partition(":")
    record_id, _, name = rest.partition(":")
    if not record_id.isdigit():
        return None
    if kind == "location" and name in LOCATION_TEXTS:
        records = practitioner.locations
    elif kind == "training" and name in TRAINING_TEXTS:
        records = practitioner.trainings
    else:
        return None
    for record in records:
        if record.id == int(record_id):
            return record, name
    return None


def current_text(practitioner, key: str) -> str | None:
    """The public text under a key, or None when the key names nothing (a deleted location, say)."""
    target = _target(practitioner, key)
    return None if target is None else (getattr(*target) or "")


def apply_text(practitioner, key: str, value: str) -> bool:
    """Write a text under its key; False when the key names nothing any more (then nothing is written)."""
    target = _target(practitioner, key)
    if target is None:
        return False
    setattr(*target, value)
    return True


def label(key: str) -> str:
    """What a key is called in the pages ("About", "Location name")."""
    return LABELS.get(key.rsplit(":", 1)[-1], key)


def public_texts(practitioner) -> dict[str, str]:
    """Every text of the profile that patients read, by key."""
    texts = {key: getattr(practitioner, key) or "" for key in PRACTITIONER_TEXTS}
    for location in practitioner.locations:
        for name in LOCATION_TEXTS:
            texts[f"location:{location.id}:{name}"] = getattr(location, name) or ""
    for training in practitioner.trainings:
        for name in TRAINING_TEXTS:
            texts[f"training:{training.id}:{name}"] = getattr(training, name) or ""
    return texts
