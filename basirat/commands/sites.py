"""``basirat sites …``: the stores and their keys."""

from __future__ import annotations

import json

import click

from ._common import fail, migrated, warehouse_of


@click.group()
def sites() -> None:
    """Sites (stores) and their keys."""


@sites.command("create")
@click.argument("name")
@click.option("--domain", "domains", multiple=True, help="A domain of the store (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the new site as JSON.")
@click.pass_context
def sites_create(ctx: click.Context, name: str, domains: tuple[str, ...], as_json: bool) -> None:
    """Create a site and print its keys (the server key and identity secret are secrets of the store's server)."""
    from warehouse.queries import sites as store

    if not name.strip():
        fail("a site needs a name")
    site = store.create_site(migrated(ctx), name.strip(), list(domains))
    names = ("site_id", "write_key", "public_key", "server_key", "identity_secret")
    out = {k: site[k] for k in names}
    if as_json:
        click.echo(json.dumps(out))
    else:
        labels = ("write key", "public key", "server key", "identity secret")
        click.echo(f"site {out['site_id']} created")
        for label, name in zip(labels, names[1:]):
            click.echo(f"{label + ':':<17}{out[name]}")


@sites.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def sites_list(ctx: click.Context, as_json: bool) -> None:
    """List sites."""
    from warehouse.queries import sites as store

    rows = store.list_sites(warehouse_of(ctx))
    if as_json:
        click.echo(json.dumps([{k: r[k] for k in ("site_id", "name", "domains")} for r in rows]))
        return
    for r in rows:
        click.echo(f"{r['site_id']}  {r['name']}  {' '.join(r['domains'])}")
