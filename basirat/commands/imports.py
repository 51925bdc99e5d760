"""``basirat import …``: offline orders and customers from CSV files."""

from __future__ import annotations

import datetime as dt
import sys

import click

from ._common import fail, known_site, warehouse_of


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        name, sep, column = value.partition("=")
        if not sep or not name or not column:
            fail(f"--map wants field=COLUMN, got {value!r}")
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
    type=click.Choice(["online_retail", "cdnow", "shopify", "woocommerce", "custom"]),
    default="online_retail",
    show_default=True,
    help="Column layout: UCI Online Retail CSV, CDNOW's blank-separated customer/date/cds/dollars, "
    "Shopify's order export, WooCommerce's (Advanced Order Export plugin, a row per product), "
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
        fail(str(exc))
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

    site_id = known_site(ctx, site_id)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    try:
        parsed = parse(file, mapping, site_id, now)
    except ImportFailed as exc:
        fail(str(exc))
    if parsed.bad:
        click.echo(f"{parsed.bad} of {parsed.lines} lines are bad; first ones:", err=True)
        for example in parsed.examples:
            click.echo(f"  {example}", err=True)
        if strict:
            fail("nothing imported (--strict)")
    inserted = insert_new_events(warehouse_of(ctx), parsed.rows, click.echo)
    click.echo(f"{inserted} {what} imported ({len(parsed.rows) - inserted} already there) from {parsed.lines} lines")
    if not parsed.rows:
        sys.exit(1)
