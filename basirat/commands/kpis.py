"""``basirat kpis``: the dashboard's figures for a date range."""

from __future__ import annotations

import json

import click

from ._common import config_of, warehouse_of


@click.command()
@click.option("--site", "site_id", required=True, help="Site id.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (UTC).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day (UTC), inclusive.")
@click.option("--segment", help="Only current members of this segment.")
@click.pass_context
def kpis(ctx: click.Context, site_id: str, start, end, segment: str | None) -> None:
    """The dashboard's KPIs for a date range, as JSON."""
    from warehouse.queries import kpis as store

    timeout = int(config_of(ctx)["SESSION_TIMEOUT_MINUTES"])
    board = store.dashboard(warehouse_of(ctx), site_id, start.date(), end.date(), segment, timeout)
    click.echo(json.dumps(board, default=str, indent=1))
