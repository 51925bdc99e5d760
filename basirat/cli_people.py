"""``basirat import …`` and ``basirat people …``: other channels, merges, erasure and export."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from .cli import _config, _fail, _warehouse


def _site(ctx: click.Context, site_id: str) -> str:
    from warehouse.engine.migrate import migrate
    from warehouse.queries import sites

    wh = _warehouse(ctx)
    migrate(wh)
    if sites.get_site(wh, site_id) is None:
        _fail(f"no site {site_id!r} (see `basirat sites list`)")
    return site_id


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        name, sep, column = value.partition("=")
        if not sep or not name or not column:
            _fail(f"--map wants field=COLUMN, got {value!r}")
        out[name.strip()] = column.strip()
    return out


@click.group("import")
def import_group() -> None:
    """Bring offline orders and customers (shop, phone, marketplace) into the warehouse."""


def _import_options(func):
    options = [
        click.argument("file", type=click.Path(dir_okay=False)),
        click.option("--site", "site_id", required=True, help="Site the rows belong to."),
        click.option("--map", "columns", multiple=True, metavar="FIELD=COLUMN", help="Column of a field (repeatable)."),
        click.option("--sep", default=None, help="Field separator (default ',')."),
        click.option("--whitespace", is_flag=True, default=None, help="Fields are separated by runs of blanks."),
        click.option("--names", default=None, help="Comma-separated column names for a file without header."),
        click.option("--date-format", default=None, help="strftime format of the date column."),
        click.option("--channel", default="offline", show_default=True, help="Where these orders come from."),
        click.option("--web-ids", is_flag=True, help="Customer ids are the web store's user ids (link by id)."),
        click.option("--customer-prefix", default="", help="Prefix that turns a customer id into the site's userId."),
        click.option("--strict", is_flag=True, help="Import nothing if any line is bad."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@import_group.command("orders")
@_import_options
@click.option(
    "--preset",
    type=click.Choice(["online_retail", "cdnow", "custom"]),
    default="online_retail",
    show_default=True,
    help="Column layout: UCI Online Retail CSV, CDNOW's blank-separated customer/date/cds/dollars, "
    "or custom (every field from --map).",
)
@click.option("--currency", default="USD", show_default=True)
@click.pass_context
def import_orders(
    ctx,
    file,
    site_id,
    columns,
    sep,
    whitespace,
    names,
    date_format,
    channel,
    web_ids,
    customer_prefix,
    strict,
    preset,
    currency,
):
    """Import offline orders from FILE (CSV), one event per order."""
    from collector.imports import ImportFailed, mapping_for, parse_orders

    options = dict(
        sep=sep,
        whitespace=whitespace,
        names=names.split(",") if names else None,
        date_format=date_format,
        channel=channel,
        web_ids=web_ids,
        customer_prefix=customer_prefix,
        currency=currency,
    )
    try:
        mapping = mapping_for(preset, _pairs(columns), **options)
    except ImportFailed as exc:
        _fail(str(exc))
    _run_import(ctx, file, site_id, mapping, parse_orders, strict, "orders")


@import_group.command("customers")
@_import_options
@click.pass_context
def import_customers(
    ctx, file, site_id, columns, sep, whitespace, names, date_format, channel, web_ids, customer_prefix, strict
):
    """Import customers (customer id and email) from FILE, so their orders and visits join up."""
    from collector.imports import Mapping, parse_customers

    mapping = Mapping(
        columns={"customer_id": "customer_id", "email": "email", **_pairs(columns)},
        names=names.split(",") if names else None,
        whitespace=bool(whitespace),
        sep=sep or ",",
        channel=channel,
        web_ids=web_ids,
        customer_prefix=customer_prefix,
    )
    _run_import(ctx, file, site_id, mapping, parse_customers, strict, "customers")


def _run_import(ctx, file, site_id, mapping, parse, strict: bool, what: str) -> None:
    from collector.imports import ImportFailed
    from warehouse.queries.imports import insert_new_events

    root = ctx.find_root()
    site_id = _site(root, site_id)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    try:
        parsed = parse(file, mapping, site_id, now)
    except ImportFailed as exc:
        _fail(str(exc))
    if parsed.bad:
        click.echo(f"{parsed.bad} of {parsed.lines} lines are bad; first ones:", err=True)
        for example in parsed.examples:
            click.echo(f"  {example}", err=True)
        if strict:
            _fail("nothing imported (--strict)")
    inserted = insert_new_events(_warehouse(root), parsed.rows, click.echo)
    click.echo(f"{inserted} {what} imported ({len(parsed.rows) - inserted} already there) from {parsed.lines} lines")
    if not parsed.rows:
        sys.exit(1)


@click.group()
def people() -> None:
    """One person: show, merge, unmerge, export or erase (GDPR)."""


def _person(ctx: click.Context, site_id: str, ref: str) -> tuple[str, str]:
    """The person id behind ``ref`` and the identity typed (for a visitor never stitched)."""
    from warehouse.queries import people as store

    person = store.resolve(_warehouse(ctx), site_id, ref)
    if person is None:
        _fail(f"no person {ref!r} on site {site_id} (use a person id, user:ID, anon:ID or an email)")
    return person, "" if ref.strip().startswith("p_") else store.identity_of(ref)


@people.command("show")
@click.argument("ref")
@click.option("--site", "site_id", required=True)
@click.pass_context
def people_show(ctx, ref, site_id):
    """Print a person's profile as JSON."""
    from warehouse.queries import people as store

    root = ctx.find_root()
    person, hint = _person(root, _site(root, site_id), ref)
    warehouse = _warehouse(root)
    profile = store.profile(warehouse, site_id, person, hint)
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

    root = ctx.find_root()
    person, hint = _person(root, _site(root, site_id), ref)
    count = 0
    for table, row in erasure.export_person(_warehouse(root), site_id, person, hint):
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

    root = ctx.find_root()
    person, hint = _person(root, _site(root, site_id), ref)
    if not yes:
        click.confirm(f"Erase {person} and every row of theirs from site {site_id}?", abort=True)
    result = erasure.erase_person(_warehouse(root), site_id, person, click.echo, hint)
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

    root = ctx.find_root()
    _site(root, site_id)
    wh = _warehouse(root)
    a, b = store.identity_of(first), store.identity_of(second)
    merge(wh, site_id, a, b, actor, note, int(_config(root)["IDENTITY_MAX_IDS"]))
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

    root = ctx.find_root()
    _site(root, site_id)
    wh = _warehouse(root)
    ident = store.identity_of(identity)
    try:
        unmerge(wh, site_id, ident, actor, note, int(_config(root)["IDENTITY_MAX_IDS"]))
    except ValueError as exc:
        _fail(str(exc))
    click.echo(f"{ident} is now {store.resolve(wh, site_id, ident)}")
