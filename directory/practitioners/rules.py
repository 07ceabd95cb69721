"""The limits and formats of every practitioner field, in one place.

The profile editor's forms, the CSV import (and later the API) call these functions, so a
value is accepted or refused with the same message everywhere. Each rule takes the raw value
(text from a form or a CSV cell, or an already typed value) and returns the normalised value
to store, or raises FieldError with a message for the person who typed it. Nothing here knows
about requests.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from directory.accounts.emails import email_problem, normalize_email
from directory.languages import canonical_name

# Longest text per field: the database column sizes.
MAX_LENGTHS = {
    "display_name": 120,
    "practice_name": 160,
    "phone": 40,
    "website": 300,
    "languages": 300,
}
SESSION_MINUTES = (15, 240)
FEE_LIMITS = (0, 100_000)
PHONE_RE = r"^[0-9+()./ \-]*(?:(?:ext\.?|x) ?[0-9]+)?$"
PHONE_MESSAGE = "Use digits, spaces and + ( ) - only."
CURRENCY_MESSAGE = "Use the three-letter ISO 4217 code, e.g. USD."
WEBSITE_MESSAGE = "Enter a full web address starting with https:// or http://."
TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "on"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", "off"})
# What a verification vouched for: a change of any of these sends a credential back to the queue.
CREDENTIAL_REVIEW_FIELDS = ("body_id", "credential", "credential_number", "issued_on", "expires_on", "evidence_path")

_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


class FieldError(ValueError):
    """A value a field rule refuses; str() is the message to show."""


def _text(value) -> str:
    """A raw value as trimmed text ("" for None)."""
    return "" if value is None else str(value).strip()


def _at_most(value: str, name: str) -> str:
    limit = MAX_LENGTHS[name]
    if len(value) > limit:
        raise FieldError(f"Use at most {limit} characters (this has {len(value)}).")
    return value


def display_name(value) -> str:
    """The name shown on the profile: required, at most 120 characters."""
    text = _text(value)
    if not text:
        raise FieldError("Enter the name to show on the profile.")
    return _at_most(text, "display_name")


def practice_name(value) -> str:
    """The practice's name: optional, at most 160 characters."""
    return _at_most(_text(value), "practice_name")


def email(value) -> str:
    """A contact email: the account email rule (a profile is claimed by the account with its address)."""
    problem = email_problem(_text(value))
    if problem:
        raise FieldError(f"This email address is not valid: {problem}")
    return normalize_email(value)


def phone(value) -> str:
    """A phone number: optional; digits, spaces, + ( ) . / - and an extension."""
    text = _at_most(_text(value), "phone")
    if not re.match(PHONE_RE, text):
        raise FieldError(PHONE_MESSAGE)
    return text


def website(value) -> str:
    """An http(s) address with a public host name; "https://" is added to a bare host name."""
    text = _text(value)
    if not text:
        return ""
    if not _SCHEME_RE.match(text):
        text = "https://" + text
    parts = urlsplit(text)
    host = parts.hostname or ""
    if parts.scheme.lower() not in {"http", "https"} or "." not in host or re.search(r"\s", text):
        raise FieldError(WEBSITE_MESSAGE)
    return _at_most(text, "website")


def _whole_number(value, message: str) -> int | None:
    """None for blank, else a whole number (an int, or text of digits); FieldError otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = _text(value)
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise FieldError(message)
    return int(text)


def session_minutes(value) -> int | None:
    """Session length in whole minutes, 15 to 240 (real sessions last 30 to 90); None when blank."""
    low, high = SESSION_MINUTES
    message = f"Session length must be a whole number of minutes from {low} to {high}."
    minutes = _whole_number(value, message)
    if minutes is not None and not low <= minutes <= high:
        raise FieldError(message)
    return minutes


def fee(value) -> int | None:
    """A fee in whole currency units, 0 to 100000; None when blank."""
    low, high = FEE_LIMITS
    message = f"Enter a whole amount from {low} to {high}."
    amount = _whole_number(value, message)
    if amount is not None and not low <= amount <= high:
        raise FieldError(message)
    return amount


def fee_range(fee_min: int | None, fee_max: int | None) -> tuple[int | None, int | None]:
    """The two fees together: the upper one cannot be below the lower one."""
    if fee_min is not None and fee_max is not None and fee_max < fee_min:
        raise FieldError("The upper fee must not be lower than the starting fee.")
    return fee_min, fee_max


def currency(value) -> str:
    """A three-letter ISO 4217 code, stored upper-case."""
    text = _text(value).upper()
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise FieldError(CURRENCY_MESSAGE)
    return text


def language_list(value) -> list[str]:
    """Languages separated by commas or semicolons, each by its English name, without blanks or repeats.

    Any spelling of a language is accepted ("Español", "es", "spanish" -> "Spanish", see
    directory.languages); a word that is not a language is refused with its name.
    """
    names: list[str] = []
    unknown: list[str] = []
    for part in re.split(r"[;,]", _text(value)):
        typed = " ".join(part.split())
        if not typed:
            continue
        name = canonical_name(typed)
        if name is None:
            unknown.append(typed)
        elif name not in names:
            names.append(name)
    if unknown:
        shown = ", ".join(repr(u[:40]) for u in unknown[:3])
        raise FieldError(
            f"We do not recognise {shown} as a language. Use its name, e.g. Spanish, or its code, e.g. es."
        )
    return names


def languages(value) -> str:
    """Languages as stored: "English, Spanish" (at most 300 characters)."""
    return _at_most(", ".join(language_list(value)), "languages")


GENDERS = {"female": "Female", "male": "Male", "nonbinary": "Non-binary"}


def gender(value) -> str | None:
    """The practitioner's gender if they state it: female, male or nonbinary; None when blank."""
    text = _text(value).lower().replace("-", "").replace(" ", "")
    if not text:
        return None
    if text not in GENDERS:
        raise FieldError("Choose female, male or non-binary, or leave it blank.")
    return text


HOURS_NOTE_LENGTH = 200


def hours_note(value) -> str:
    """A location's note on its hours ("Evenings by appointment"): optional, one line, at most 200 characters."""
    text = " ".join(_text(value).split())
    if len(text) > HOURS_NOTE_LENGTH:
        raise FieldError(f"Use at most {HOURS_NOTE_LENGTH} characters (this has {len(text)}).")
    return text


def yes_no(value, default: bool) -> bool:
    """yes/no, true/false, 1/0 (also y/n, t/f, on/off) in any case; blank gives the default."""
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if not text:
        return default
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise FieldError("Answer yes or no.")


# --- When a credential goes back to verification ----------------------------------------------


def credential_facts(cert) -> tuple:
    """What a verification of this credential vouched for (see CREDENTIAL_REVIEW_FIELDS)."""
    return tuple(getattr(cert, name) for name in CREDENTIAL_REVIEW_FIELDS)


def needs_review(cert, before: tuple | None) -> bool:
    """True for a new credential (before is None) or one whose body, code, number, dates or evidence changed."""
    return before is None or credential_facts(cert) != before


def review_if_changed(cert, before: tuple | None) -> bool:
    """Send a new or changed credential (back) to the verification queue; True when it was."""
    if not needs_review(cert, before):
        return False
    cert.mark_pending()
    return True
