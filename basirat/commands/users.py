"""``basirat users …``: who may sign in to the admin, and their API tokens."""

from __future__ import annotations

import sys

import click

from ._common import fail, migrated, warehouse_of


@click.group()
def users() -> None:
    """Admin users (who may sign in to the web app)."""


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "analyst"]), required=True)
@click.option("--site", "site_ids", multiple=True, help="A site the user may see (repeatable; admins default to all).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin instead of generating one.")
@click.pass_context
def users_create(ctx: click.Context, email: str, role: str, site_ids: tuple[str, ...], password_stdin: bool) -> None:
    """Create a user; prints a generated password unless --password-stdin."""
    from warehouse.queries import sites as site_store
    from webapp import accounts

    wh = migrated(ctx)
    known = {s["site_id"] for s in site_store.list_sites(wh)}
    unknown = [s for s in site_ids if s not in known]
    if unknown:
        fail(f"no site {unknown[0]!r}; see `basirat sites list`")
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else accounts.new_password()
    try:
        user = accounts.create(wh, email, role, password, list(site_ids))
    except accounts.AccountError as exc:
        fail(str(exc))
    click.echo(f"user {user['email']} ({role}) created")
    if not password_stdin:
        click.echo(f"password: {password}")


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """List users."""
    from warehouse.queries import users as store

    for u in store.list_users(warehouse_of(ctx)):
        sites = ",".join(u["site_ids"]) or ("all sites" if u["role"] == "admin" else "no sites")
        state = "active" if u["active"] else "deactivated"
        click.echo(f"{u['email']}  {u['role']}  {state}  {sites}")


@users.command("token")
@click.argument("email")
@click.option("--label", default="command line", show_default=True, help="What the token is for.")
@click.pass_context
def users_token(ctx: click.Context, email: str, label: str) -> None:
    """Create an admin API token for a user; prints it once (only a hash is kept)."""
    from warehouse.queries import users as store
    from webapp import tokens

    wh = migrated(ctx)
    user = store.find_by_email(wh, email)
    if user is None or not user["active"]:
        fail(f"no active user {email!r}; see `basirat users list`")
    row, token = tokens.issue(wh, user["user_id"], label)
    click.echo(f"token {row['token_id']} for {user['email']} ({user['role']}); shown once:")
    click.echo(token)
