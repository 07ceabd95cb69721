"""Command-line commands for operators (flask --app wsgi COMMAND --help)."""

from __future__ import annotations

import click
from flask import Flask


@click.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep running, delivering every --interval seconds.")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between rounds with --loop.")
def send_mail_command(loop: bool, interval: float) -> None:
    """Deliver the outbox messages that are due (for cron, or with --loop)."""
    import time

    from directory.mail import deliver_due

    while True:
        sent, failed = deliver_due()
        if sent or failed or not loop:
            click.echo(f"sent {sent}, failed {failed}")
        if not loop:
            break
        time.sleep(interval)


def register(app: Flask) -> None:
    """Add the commands of every area to the app's CLI."""
    from directory.accounts.commands import COMMANDS as account_commands
    from directory.admin.commands import COMMANDS as admin_commands
    from directory.referrals.commands import COMMANDS as referral_commands

    for command in [send_mail_command, *account_commands, *referral_commands, *admin_commands]:
        app.cli.add_command(command)
