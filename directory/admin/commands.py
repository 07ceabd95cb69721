"""Command-line commands of this area; registered by directory.commands."""

from __future__ import annotations

from datetime import date

import click

from directory.extensions import db
from directory.models.base import today as utc_today


@click.command("notify-expiring")
@click.option(
    "--today",
    "today_",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Pretend today is YYYY-MM-DD (for testing); default: today (UTC).",
)
def notify_expiring_command(today_) -> None:
    """The daily reminders (run daily; idempotent): credentials 30 days before expiry and on the day,
    profiles unconfirmed for 12 months, and suggested corrections unanswered for 14 days (to the admins)."""
    from directory.admin.verification import notify_expiring
    from directory.feedback.service import escalate_unanswered, remind_unconfirmed

    day: date = today_.date() if today_ is not None else utc_today()
    try:
        warnings, notices = notify_expiring(day)
        reminders = remind_unconfirmed(day)
        escalated = escalate_unanswered(day)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"{day.isoformat()}: {warnings} expiry warnings and {notices} expiry notices queued")
    click.echo(
        f"{day.isoformat()}: {reminders} confirmation reminders queued; {escalated} unanswered corrections sent to the admins"
    )


COMMANDS: list = [notify_expiring_command]
