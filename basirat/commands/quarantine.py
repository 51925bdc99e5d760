"""``basirat quarantine …``: messages held for breaking the schema, and their replay."""

from __future__ import annotations

import json

import click

from ._common import config_of, migrated, warehouse_of


@click.group()
def quarantine() -> None:
    """Messages that parsed but broke the schema, held with the reason."""


@quarantine.command("list")
@click.option("--site", "site_id", default="", help="Only this site.")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def quarantine_list(ctx: click.Context, site_id: str, limit: int, as_json: bool) -> None:
    """Counts by reason, then the newest held messages."""
    from warehouse.queries import quarantine as store

    wh = warehouse_of(ctx)
    rows = store.list_quarantined(wh, site_id, limit=limit)
    if as_json:
        for row in rows:
            click.echo(json.dumps({**row, "received_at": str(row["received_at"])[:19]}))
        return
    for row in store.count_by_reason(wh, site_id):
        click.echo(f"{row['site_id']}  {row['reason']:<18} {row['messages']}")
    for row in rows:
        click.echo(f"{str(row['received_at'])[:19]}  {row['quarantine_id']}  {row['reason']}: {row['detail']}")
        click.echo(f"    {row['raw'][:200]}")


@quarantine.command("replay")
@click.option("--site", "site_id", default="", help="Only this site.")
@click.pass_context
def quarantine_replay(ctx: click.Context, site_id: str) -> None:
    """Run held messages through the pipeline again; load those that now pass."""
    from collector.quarantine import replay

    result = replay(migrated(ctx), config_of(ctx), site_id)
    click.echo(
        f"{result['loaded']} loaded, {result['duplicates']} already loaded, "
        f"{result['still_rejected']} still rejected (kept in quarantine)"
    )
