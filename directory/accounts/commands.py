"""Operators' account commands: create-user and create-api-token."""

from __future__ import annotations

import click

from directory.extensions import db
from directory.models import ApiToken, Role

ROLES = [role.value for role in Role]


@click.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the account is for.")
@click.option("--password", help="The password; asked for (twice, hidden) when left out.")
@click.option("--name", default="", help="The person's name.")
def create_user_command(email: str, role: str, password: str | None, name: str) -> None:
    """Create a confirmed account; a practitioner gets the existing profile with that email."""
    from directory.accounts.service import AccountError, create_user

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(email, Role(role), password, name=name)
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {user.role.value} account {user.email} (id {user.id}).")
    if user.practitioner is not None:
        click.echo(f"Attached the existing profile {user.practitioner.display_name!r} (id {user.practitioner.id}).")


@click.command("create-api-token")
@click.argument("email")
@click.option("--name", default="CLI token", show_default=True, help="A name to recognise the token by.")
def create_api_token_command(email: str, name: str) -> None:
    """Create an API token for a user and print it (alone, on the last line)."""
    from directory.accounts.service import find_user

    user = find_user(email)
    if user is None:
        raise click.ClickException(f"There is no account with the email {email}.")
    if user.disabled:
        raise click.ClickException(f"The account {user.email} is disabled.")
    _row, plain = ApiToken.issue(user, name[:80])
    db.session.commit()
    click.echo(f"API token {name!r} for {user.email}; it is shown only once:", err=False)
    click.echo(plain)


COMMANDS: list = [create_user_command, create_api_token_command]
