"""`flask geodata build`: build the offline gazetteer's store at deploy time."""

from __future__ import annotations

import sqlite3
import time

import click

from directory.geocoding.store import POSTCODE_COUNTRIES, build_store, store_path


@click.group("geodata")
def geodata() -> None:
    """The offline gazetteer's data (cities and postal codes, from installed packages)."""


@geodata.command("build")
@click.option("--force", is_flag=True, help="Rebuild even when the store for these package versions exists.")
def build_command(force: bool) -> None:
    """Build the store of cities and postal codes (seconds; the app builds it at start when it is missing)."""
    path = store_path()
    if path.exists() and not force:
        click.echo(f"The store is ready: {path}")
        return
    started = time.perf_counter()
    build_store(path)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        cities = conn.execute("SELECT count(*) FROM cities").fetchone()[0]
        codes = conn.execute("SELECT count(*) FROM postcodes").fetchone()[0]
    countries = ", ".join(("US", *POSTCODE_COUNTRIES))
    click.echo(
        f"Built {path} in {time.perf_counter() - started:.1f} s: {cities} towns, {codes} postal codes ({countries})."
    )


COMMANDS = [geodata]
