"""The one rule for account email addresses: which are accepted, and how they are stored.

The sign-up, sign-in and change-email forms, the account service and the `create-user`
command all use it, so an address one of them refuses is refused by all.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254  # RFC 5321's limit on a forward path, and the column's length


def normalize_email(email: str | None) -> str:
    """How an account email is stored and looked up: trimmed and lower-cased."""
    return (email or "").strip().lower()


def email_problem(email: str | None) -> str | None:
    """Why the address cannot be an account's email, or None when it can.

    email-validator's syntax rules, without a DNS look-up, refusing special-use and reserved
    domains (`example.invalid`, `localhost`, `.local`, `.test`): mail sent there never arrives.
    """
    value = (email or "").strip()
    if not value:
        return "An email address is required."
    if len(value) > MAX_LENGTH:
        return f"An email address has at most {MAX_LENGTH} characters."
    try:
        validate_email(value, check_deliverability=False, test_environment=False, globally_deliverable=True)
    except EmailNotValidError as error:
        return str(error)
    return None
