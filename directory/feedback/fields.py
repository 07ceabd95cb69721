"""The details of a listing a visitor may correct, and how the practitioner's "accept" applies one.

Each detail either has a rule (the profile editor's, from practitioners.rules) and is applied on
acceptance, the texts patients read going through the claims screening as any edit does; or it
has none (an address, a credential, anything else), and accepting it means the practitioner
will change it in the editor.
"""

from __future__ import annotations

from directory.practitioners import rules

# key -> (label, rule or None). A rule turns the visitor's text into the stored value.
CORRECTABLE: dict[str, tuple[str, object]] = {
    "phone": ("Phone number", rules.phone),
    "website": ("Website", rules.website),
    "display_name": ("Name", rules.display_name),
    "practice_name": ("Practice name", rules.practice_name),
    "languages": ("Languages", rules.languages),
    "session_minutes": ("Session length (minutes)", rules.session_minutes),
    "accepting_new_patients": ("Accepting new patients (yes or no)", lambda value: rules.yes_no(value, True)),
    "address": ("An address or opening hours", None),
    "credentials": ("A credential or training", None),
    "other": ("Something else", None),
}
# The texts patients read: accepted through the claims screening.
SCREENED = ("display_name", "practice_name")


def choices() -> list[tuple[str, str]]:
    """The (key, label) pairs of the form's select."""
    return [(key, label) for key, (label, _rule) in CORRECTABLE.items()]


def label(key: str) -> str:
    """The label of a detail ("Phone number")."""
    return CORRECTABLE.get(key, (key, None))[0]


def applies_itself(key: str) -> bool:
    """Whether accepting changes the detail at once (else the practitioner edits it)."""
    return CORRECTABLE.get(key, ("", None))[1] is not None
