"""``basirat segments …``: sizes, members, product audiences and custom segments."""

from __future__ import annotations

import json

import click

from ._common import fail, warehouse_of


@click.group()
def segments() -> None:
    """Segments: sizes, members and CSV export."""


@segments.command("list")
@click.option("--site", "site_id", required=True, help="Site id.")
@click.pass_context
def segments_list(ctx: click.Context, site_id: str) -> None:
    """Every segment of a site with its current size."""
    from warehouse.queries import segments as store

    rows = store.segment_sizes(warehouse_of(ctx), site_id)
    if not rows:
        click.echo(f"no segment has members on site {site_id} yet: run `basirat jobs run segments`")
    for row in rows:
        click.echo(f"{row['segment']:<24} {row['size']:>8}  value {row['value']:.2f}")


@segments.command("export")
@click.argument("name")
@click.option("--site", "site_id", required=True, help="Site id.")
@click.pass_context
def segments_export(ctx: click.Context, name: str, site_id: str) -> None:
    """Current members of segment NAME as CSV (person_id, entered_at, value)."""
    from activation.export import to_csv
    from warehouse.queries import segments as store

    wh = warehouse_of(ctx)
    known = {row["segment"] for row in store.segment_sizes(wh, site_id)}
    if name not in known:
        fail(f"segment {name!r} has no members on site {site_id!r}; see `basirat segments list --site {site_id}`")
    click.echo(to_csv(store.segment_members(wh, site_id, name)), nl=False)


@segments.command("audience")
@click.argument("product_id")
@click.option("--site", "site_id", required=True, help="Site id.")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=1000, show_default=True)
@click.pass_context
def segments_audience(ctx: click.Context, product_id: str, site_id: str, limit: int) -> None:
    """People most likely to buy PRODUCT_ID next, as CSV (person_id, score, because_of, last_interaction)."""
    from activation.export import to_csv
    from mining.audience import site_audience

    click.echo(to_csv(site_audience(warehouse_of(ctx), site_id, product_id, limit)), nl=False)


@segments.command("define")
@click.argument("name")
@click.option("--site", "site_id", required=True, help="Site id.")
@click.option(
    "--where",
    "where",
    required=True,
    help='Conditions as JSON, e.g. \'[{"field": "orders", "op": ">=", "value": 2}]\'.',
)
@click.pass_context
def segments_define(ctx: click.Context, name: str, site_id: str, where: str) -> None:
    """Define (or replace) custom segment NAME from conditions; members follow on the next segments run."""
    from mining.membership import define_custom
    from warehouse.queries.conditions import ConditionError

    try:
        definition = json.loads(where)
        count = define_custom(warehouse_of(ctx), site_id, name, definition)
    except json.JSONDecodeError as exc:
        fail(f"--where is not valid JSON: {exc}")
    except ConditionError as exc:
        fail(str(exc))
    click.echo(f"segment {name} defined: {count} people match now")


@segments.command("drop")
@click.argument("name")
@click.option("--site", "site_id", required=True, help="Site id.")
@click.pass_context
def segments_drop(ctx: click.Context, name: str, site_id: str) -> None:
    """Remove custom segment NAME; its members leave on the next segments run."""
    from warehouse.queries import conditions

    wh = warehouse_of(ctx)
    found = [s for s in conditions.custom_segments(wh, site_id) if s["name"] == name]
    if not found:
        fail(f"no custom segment {name!r} on site {site_id!r}")
    conditions.define_segment(wh, site_id, name, found[0]["conditions"], deleted=1)
    click.echo(f"segment {name} dropped")
