"""Command-line commands for operators (flask --app wsgi COMMAND --help)."""

from __future__ import annotations

import click
from flask import Flask

# Profiles held for review that import-practitioners lists without -v.
HELD_LINES_SHOWN = 20


@click.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep running, delivering every --interval seconds.")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between rounds with --loop.")
def send_mail_command(loop: bool, interval: float) -> None:
    """Deliver the outbox messages and webhook deliveries that are due (for cron, or with --loop)."""
    import logging
    import time

    from directory.extensions import db
    from directory.mail import deliver_due
    from directory.webhooks.delivery import deliver_due as deliver_webhooks

    while True:
        try:
            sent, failed = deliver_due()
            delivered, undelivered = deliver_webhooks()
            sent, failed = sent + delivered, failed + undelivered
        except Exception:
            # A database hiccup must not end the background sender; the next round retries.
            if not loop:
                raise
            logging.getLogger(__name__).exception("send-mail round failed; retrying in %s s", interval)
            sent = failed = 0
        finally:
            db.session.remove()
        if sent or failed or not loop:
            click.echo(f"sent {sent}, failed {failed}")
        if not loop:
            break
        time.sleep(interval)


@click.command("import-practitioners")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "--mark-verified",
    "mark_verified",
    metavar="SOURCE",
    help="Mark the file's credentials verified, with this source (an association importing its own register).",
)
@click.option("--dry-run", is_flag=True, help="Check the file and report what would change, writing nothing.")
@click.option("--verbose", "-v", is_flag=True, help="List every practitioner created or changed.")
def import_practitioners_command(file: str, mark_verified: str | None, dry_run: bool, verbose: bool) -> None:
    """Import practitioners from a CSV file (one transaction: a bad row writes nothing).

    The file is read as a stream (all of it checked before anything is written), so its size
    does not matter. A profile its owner or an admin unpublished stays unpublished, and texts
    the practitioner edited since the last import are kept: the summary counts both. Names and
    practice names go through the claims screening of the profile editor: a flagged one is held
    for review at /admin/reviews (a new profile stays unpublished until then); the profiles held
    are listed even without -v.
    """
    from directory.csv_io import CsvImportError, import_stream
    from directory.csv_io.format import decoded_lines
    from directory.extensions import db

    try:
        with click.open_file(file, "rb") as stream:
            report = import_stream(decoded_lines(stream), mark_verified=mark_verified, dry_run=dry_run)
    except CsvImportError as error:
        raise click.ClickException(f"{file}: {error} - nothing was imported") from None
    db.session.commit()
    if verbose:
        for change in report.changes:
            click.echo(change)
        if report.lines_left_off:
            click.echo(f"... and {report.lines_left_off} more change(s) not listed")
    else:
        # What waits for an admin is worth seeing without -v (it is among the changes -v lists).
        for line in report.held[:HELD_LINES_SHOWN]:
            click.echo(line)
        if report.held_for_review > HELD_LINES_SHOWN:
            click.echo(f"... and {report.held_for_review - HELD_LINES_SHOWN} more held for review (-v lists them)")
    click.echo(report.summary())


@click.command("export-practitioners")
@click.argument("file", default="-", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
def export_practitioners_command(file: str) -> None:
    """Write every practitioner to a CSV file (to standard output without FILE), in the import format."""
    from directory.csv_io import export_practitioners

    with click.open_file(file, "w", encoding="utf-8") as out:
        count = export_practitioners(out)
    if file != "-":
        click.echo(f"Exported {count} rows to {file}")


@click.command("seed-demo")
@click.option(
    "--count", default=2000, show_default=True, type=click.IntRange(0, 5_000_000), help="How many practitioners."
)
@click.option("--seed", default=1, show_default=True, help="Random seed: the same seed gives the same data.")
@click.option("--if-empty", is_flag=True, help="Seed only when there are no practitioners yet.")
def seed_demo_command(count: int, seed: int, if_empty: bool) -> None:
    """Add realistic, deterministic demo practitioners around real towns."""
    import time

    from directory.demo import has_practitioners, seed_demo

    if if_empty and has_practitioners():
        click.echo("Practitioners exist already: no demo data added.")
        return
    started = time.perf_counter()
    made = seed_demo(count=count, seed=seed)
    click.echo(f"Added {made} demo practitioners in {time.perf_counter() - started:.1f} s.")


def register(app: Flask) -> None:
    """Add the commands of every area to the app's CLI."""
    from directory.accounts.commands import COMMANDS as account_commands
    from directory.admin.commands import COMMANDS as admin_commands
    from directory.geocoding.commands import COMMANDS as geodata_commands
    from directory.referrals.commands import COMMANDS as referral_commands

    own = [send_mail_command, import_practitioners_command, export_practitioners_command, seed_demo_command]
    for command in [*own, *account_commands, *referral_commands, *admin_commands, *geodata_commands]:
        app.cli.add_command(command)
