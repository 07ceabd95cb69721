"""Emails the admin area sends: to practitioners and providers, through the outbox."""

from __future__ import annotations

from directory import mail
from directory.models import Practitioner, User


def practitioner_address(practitioner: Practitioner) -> str:
    """Where to write to a practitioner: their account's email, else the profile's."""
    if practitioner.user is not None and practitioner.user.email:
        return practitioner.user.email
    return practitioner.email


def notify_practitioner(practitioner: Practitioner, subject: str, template: str, **context) -> None:
    """Queue a message to a practitioner, with a link to their dashboard."""
    mail.queue_mail(
        practitioner_address(practitioner),
        subject,
        template,
        practitioner=practitioner,
        dashboard_url=mail.site_url("practitioners.dashboard"),
        how_we_verify_url=mail.site_url("public.how_we_verify"),
        **context,
    )


def notify_user(user: User, subject: str, template: str, **context) -> None:
    """Queue a message to an account holder."""
    mail.queue_mail(user.email, subject, template, user=user, site_url=mail.site_url("public.home"), **context)
