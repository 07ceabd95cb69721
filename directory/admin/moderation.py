"""Moderating profiles and accounts: publish, unpublish, suspend, reinstate, disable, enable.

Each function changes the record, adds the audit entry and queues the email in the caller's
transaction; the caller commits.
"""

from __future__ import annotations

import secrets

from directory.admin.notices import notify_practitioner, notify_user
from directory.audit import record_audit, snapshot
from directory.models import Practitioner, User
from directory.practitioners.profiles import record_unpublished

PROFILE_FIELDS = ("published", "suspended", "suspension_reason")

# action -> (audit action, email subject, email template)
PROFILE_ACTIONS = {
    "publish": ("practitioner.published", "Your profile is published", "profile_published"),
    "unpublish": ("practitioner.unpublished", "Your profile was taken off the directory", "profile_unpublished"),
    "suspend": ("practitioner.suspended", "Your profile is suspended", "profile_suspended"),
    "reinstate": ("practitioner.reinstated", "Your profile is no longer suspended", "profile_reinstated"),
}


class ModerationError(Exception):
    """The action does not apply to the record in its present state."""


def moderate_profile(practitioner: Practitioner, admin: User, action: str, reason: str = "") -> None:
    """Publish, unpublish, suspend or reinstate a profile, with a reason sent to the practitioner."""
    if action not in PROFILE_ACTIONS:
        raise ModerationError("Unknown action.")
    reason = reason.strip()
    before = snapshot(practitioner, *PROFILE_FIELDS)
    if action == "publish":
        if practitioner.published:
            raise ModerationError("The profile is already published.")
        practitioner.published = True
        record_unpublished(practitioner, None)
    elif action == "unpublish":
        if not practitioner.published:
            raise ModerationError("The profile is not published.")
        practitioner.published = False
        record_unpublished(practitioner, "admin")
    elif action == "suspend":
        if practitioner.suspended:
            raise ModerationError("The profile is already suspended.")
        if not reason:
            raise ModerationError("Please give the reason for the suspension.")
        practitioner.suspended = True
        practitioner.suspension_reason = reason
    else:
        if not practitioner.suspended:
            raise ModerationError("The profile is not suspended.")
        practitioner.suspended = False
        practitioner.suspension_reason = ""
    audit_action, subject, template = PROFILE_ACTIONS[action]
    after = snapshot(practitioner, *PROFILE_FIELDS)
    record_audit(admin, audit_action, practitioner, before=before, after={**after, "reason": reason})
    notify_practitioner(practitioner, subject, template, reason=reason)


def set_account_disabled(user: User, admin: User, disabled: bool) -> None:
    """Disable or enable an account; a disabled account cannot sign in or use its API tokens."""
    if user.id == admin.id:
        raise ModerationError("You cannot disable or enable your own account.")
    if user.disabled == disabled:
        raise ModerationError("The account is already " + ("disabled." if disabled else "enabled."))
    before = snapshot(user, "disabled")
    user.disabled = disabled
    if disabled:
        # A new session token ends the sessions the account has open now.
        user.session_token = secrets.token_hex(16)
    record_audit(
        admin, "user.disabled" if disabled else "user.enabled", user, before=before, after={"disabled": disabled}
    )
    if disabled:
        notify_user(user, "Your account is disabled", "account_disabled")
    else:
        notify_user(user, "Your account is enabled again", "account_enabled")
