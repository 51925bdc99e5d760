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
@click.option(
    "--source",
    default=None,
    help="Name of the system the file comes from (till, call-centre, shop...): "
    "keeps every field as a customer record of that source, for matching.",
)
@click.option(
    "--preset",
    type=click.Choice(["basirat", "shopify", "woocommerce", "custom"]),
    default=None,
    help="Columns of a --source file: ours (source_id, first_name, last_name, email, phone), Shopify's "
    "customer export, WooCommerce's billing fields, or custom (every field from --map); default basirat.",
)
@click.option(
    "--region", default=None, help="Country (ISO code) of phones without a country code [MATCH_DEFAULT_REGION]."
)
@click.option("--sub-addressing", is_flag=True, help="Drop +tags (and Gmail's dots) when comparing emails.")
@click.option(
    "--unverified-ids", is_flag=True, help="The source's ids may name one customer twice (a list, not a system)."
)
@click.option("--no-match", is_flag=True, help="Only store the records; match at the next `matching` job.")
@click.pass_context
def import_customers(
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
    source,
    preset,
    region,
    sub_addressing,
    unverified_ids,
    no_match,
):
    """Import customers from FILE (CSV).

    With --source, every row is kept as a customer record of that source (raw and standardised names,
    emails, phones, addresses) and matched with the site's other records into people. Without it, the
    customer id and email of each row link that customer's orders and visits.
    """
    kept = {
        "--source": source,
        "--preset": preset,
        "--region": region,
        "--sub-addressing": sub_addressing,
        "--unverified-ids": unverified_ids,
        "--no-match": no_match,
    }
    linking = {
        "--whitespace": whitespace,
        "--names": names,
        "--date-format": date_format,
        "--web-ids": web_ids,
        "--customer-prefix": customer_prefix,
        "--channel": channel if channel != "offline" else None,
    }
    if source is not None and any(linking.values()):
        fail(f"{', '.join(k for k, v in linking.items() if v)} apply to the customer id/email import, not to --source")
    if source is None and any(kept.values()):
        fail(f"{', '.join(k for k, v in kept.items() if v)} need --source NAME (customer records of one source)")
    if source is not None:
        preset = preset or "basirat"
        _import_records(
            ctx,
            file,
            site_id,
            source,
            preset,
            _pairs(columns),
            sep,
            strict,
            region,
            sub_addressing,
            not unverified_ids,
            no_match,
        )
        return
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


def _import_records(
    ctx, file, site_id, source, preset, columns, sep, strict, region, sub_addressing, verified, no_match
) -> None:
    import pandas as pd

    from collector.imports import ImportFailed, parse_customer_records, record_mapping
    from matching.standardise import standardise
    from mining.matching import match_site
    from warehouse.queries import matching as store

    from ._common import config_of

    site_id = known_site(ctx, site_id)
    source = source.strip()
    if not source or "/" in source:
        fail("--source wants a name without '/', such as till or call-centre")
    try:
        parsed = parse_customer_records(file, record_mapping(preset, columns), sep or ",", set(columns))
    except ImportFailed as exc:
        fail(str(exc))
    _report_bad(parsed, strict)
    config = config_of(ctx)
    records = standardise(pd.DataFrame(parsed.rows), region or config["MATCH_DEFAULT_REGION"], sub_addressing)
    records.insert(0, "site_id", site_id)
    records.insert(1, "source", source)
    records["verified"] = verified
    warehouse = warehouse_of(ctx)
    known = store.stored_keys(warehouse, site_id, source)
    store.write_records(warehouse, records)
    updated = int(records["source_id"].isin(known).sum())
    flagged = records[records["problems"].map(len) > 0]
    click.echo(
        f"{len(records) - updated} new and {updated} updated {source} records from {parsed.lines} lines"
        f" ({len(flagged)} with an invalid value kept raw: "
        f"{', '.join(sorted({p for ps in flagged['problems'] for p in ps})) or 'none'})"
    )
    if not no_match:
        match_site(warehouse, site_id, config, click.echo)
    if not parsed.rows:
        sys.exit(1)


def _report_bad(parsed, strict: bool) -> None:
    if parsed.bad:
        click.echo(f"{parsed.bad} of {parsed.lines} lines are bad; first ones:", err=True)
        for example in parsed.examples:
            click.echo(f"  {example}", err=True)
        if strict:
            fail("nothing imported (--strict)")


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
