"""``basirat people …``: one person's profile, merges, export and erasure (GDPR)."""

from __future__ import annotations

import json

import click

from ._common import config_of, fail, known_site, warehouse_of


@click.group()
def people() -> None:
    """One person: show, merge, unmerge, export or erase (GDPR)."""


def _person(ctx: click.Context, site_id: str, ref: str) -> tuple[str, str]:
    """The person id behind ``ref`` and the identity typed (for a visitor never stitched)."""
    from warehouse.queries import people as store

    person = store.resolve(warehouse_of(ctx), site_id, ref)
    if person is None:
        fail(f"no person {ref!r} on site {site_id} (use a person id, user:ID, anon:ID or an email)")
    return person, "" if ref.strip().startswith("p_") else store.identity_of(ref)


@people.command("show")
@click.argument("ref")
@click.option("--site", "site_id", required=True)
@click.pass_context
def people_show(ctx, ref, site_id):
    """Print a person's profile as JSON."""
    from warehouse.queries import people as store

    person, hint = _person(ctx, known_site(ctx, site_id), ref)
    warehouse = warehouse_of(ctx)
    timeout = int(config_of(ctx)["SESSION_TIMEOUT_MINUTES"])
    profile = store.profile(warehouse, site_id, person, hint, timeout)
    profile.update(store.job_results(warehouse, site_id, person, profile["identities"]))
    click.echo(json.dumps(profile, default=str, indent=2))


@people.command("export")
@click.argument("ref")
@click.option("--site", "site_id", required=True)
@click.option("--out", type=click.File("w"), default="-", help="File to write (default stdout).")
@click.pass_context
def people_export(ctx, ref, site_id, out):
    """Every stored row of a person, as JSON lines (table, row)."""
    from warehouse.queries import erasure

    person, hint = _person(ctx, known_site(ctx, site_id), ref)
    count = 0
    for table, row in erasure.export_person(warehouse_of(ctx), site_id, person, hint):
        out.write(json.dumps({"table": table, "row": row}, default=str, ensure_ascii=False) + "\n")
        count += 1
    click.echo(f"{count} rows of {person} exported", err=True)


@people.command("delete")
@click.argument("ref")
@click.option("--site", "site_id", required=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def people_delete(ctx, ref, site_id, yes):
    """Erase a person from every table and block their future events."""
    from warehouse.queries import erasure

    person, hint = _person(ctx, known_site(ctx, site_id), ref)
    if not yes:
        click.confirm(f"Erase {person} and every row of theirs from site {site_id}?", abort=True)
    result = erasure.erase_person(warehouse_of(ctx), site_id, person, click.echo, hint)
    click.echo(
        f"{person} erased: {result['rows']} rows from {len(result['tables'])} tables; "
        f"{len(result['blocked'])} identities blocked"
    )


@people.command("merge")
@click.argument("first")
@click.argument("second")
@click.option("--site", "site_id", required=True)
@click.option("--actor", default="cli", show_default=True, help="Who decided (kept in the audit trail).")
@click.option("--note", default="", help="Why (kept in the audit trail).")
@click.pass_context
def people_merge(ctx, first, second, site_id, actor, note):
    """Say that two identities (user:ID, anon:ID, email) are one person."""
    from mining.stitching import merge
    from warehouse.queries import people as store

    known_site(ctx, site_id)
    wh = warehouse_of(ctx)
    a, b = store.identity_of(first), store.identity_of(second)
    merge(wh, site_id, a, b, actor, note, int(config_of(ctx)["IDENTITY_MAX_IDS"]))
    click.echo(f"{a} and {b} are now {store.resolve(wh, site_id, a)}")


@people.command("unmerge")
@click.argument("identity")
@click.option("--site", "site_id", required=True)
@click.option("--actor", default="cli", show_default=True)
@click.option("--note", default="")
@click.pass_context
def people_unmerge(ctx, identity, site_id, actor, note):
    """Take an identity out of the person it was merged into."""
    from mining.stitching import unmerge
    from warehouse.queries import people as store

    known_site(ctx, site_id)
    wh = warehouse_of(ctx)
    ident = store.identity_of(identity)
    try:
        unmerge(wh, site_id, ident, actor, note, int(config_of(ctx)["IDENTITY_MAX_IDS"]))
    except ValueError as exc:
        fail(str(exc))
    click.echo(f"{ident} is now {store.resolve(wh, site_id, ident)}")
