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
    """Email owners of verified credentials 30 days before expiry and on the day (run daily; idempotent)."""
    from directory.admin.verification import notify_expiring

    day: date = today_.date() if today_ is not None else utc_today()
    try:
        warnings, notices = notify_expiring(day)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"{day.isoformat()}: {warnings} expiry warnings and {notices} expiry notices queued")


COMMANDS: list = [notify_expiring_command]
