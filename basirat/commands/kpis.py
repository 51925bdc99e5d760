"""``basirat kpis``: the dashboard's figures for a date range."""

from __future__ import annotations

import json

import click

from ._common import config_of, warehouse_of


@click.command()
@click.option("--site", "site_id", required=True, help="Site id.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (site's time zone).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day, inclusive.")
@click.option("--segment", help="Only current members of this segment.")
@click.pass_context
def kpis(ctx: click.Context, site_id: str, start, end, segment: str | None) -> None:
    """The dashboard's KPIs for a date range, as JSON: days of the site's time zone (Gregorian dates)."""
    from warehouse.queries import display
    from warehouse.queries import kpis as store

    warehouse = warehouse_of(ctx)
    shown = display.site_display(warehouse, site_id) or {}
    timezone = shown.get("timezone") or config_of(ctx)["TIMEZONE"]
    board = store.dashboard(warehouse, site_id, start.date(), end.date(), segment, timezone=timezone)
    click.echo(json.dumps(board, default=str, indent=1))
