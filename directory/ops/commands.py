"""Operator commands: `flask --app wsgi backup DEST` and `flask --app wsgi restore SRC --yes`."""

from __future__ import annotations

from pathlib import Path

import click

from directory.ops.backup import BackupError, backup, restore


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
def backup_command(dest: Path) -> None:
    """Back up the database and the uploads to DEST: a new folder, or a file ending in .tar.gz."""
    try:
        summary = backup(dest)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(summary.describe("Backed up"))


@click.command("restore")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the current database and uploads without asking.")
def restore_command(src: Path, yes: bool) -> None:
    """Replace the database and the uploads with the backup at SRC (stop the site and the sender first)."""
    if not yes:
        raise click.ClickException(
            "restore replaces the whole database and the uploads folder with the backup's; "
            "stop the web processes and the sender, then run it again with --yes"
        )
    try:
        summary = restore(src)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(summary.describe("Restored"))
    click.echo("If this code is newer than the backup, run: flask --app wsgi db upgrade")


COMMANDS = [backup_command, restore_command]
