"""``basirat webhooks …``: URLs told when people enter or leave segments."""

from __future__ import annotations

import click

from ._common import config_of, fail, warehouse_of


@click.group()
def webhooks() -> None:
    """Webhooks told when people enter or leave segments."""


@webhooks.command("add")
@click.argument("url")
@click.option("--site", "site_id", required=True, help="Site id.")
@click.option("--segment", "segment_names", multiple=True, help="Only moves in this segment (repeatable).")
@click.pass_context
def webhooks_add(ctx: click.Context, url: str, site_id: str, segment_names: tuple[str, ...]) -> None:
    """Subscribe URL; prints the secret that signs every delivery (shown once)."""
    from activation.webhooks import WebhookRefused, validate_target
    from warehouse.queries import webhooks as store

    try:
        validate_target(url, config_of(ctx)["WEBHOOK_ALLOW_PRIVATE"])
    except WebhookRefused as exc:
        fail(str(exc))
    hook = store.add_webhook(warehouse_of(ctx), site_id, url, list(segment_names))
    click.echo(f"webhook {hook['webhook_id']} added\nsigning secret: {hook['secret']}")


@webhooks.command("list")
@click.option("--site", "site_id", required=True, help="Site id.")
@click.pass_context
def webhooks_list(ctx: click.Context, site_id: str) -> None:
    from warehouse.queries import webhooks as store

    for hook in store.list_webhooks(warehouse_of(ctx), site_id):
        click.echo(f"{hook['webhook_id']}  {hook['url']}  {' '.join(hook['segments']) or '(all segments)'}")


@webhooks.command("remove")
@click.argument("webhook_id")
@click.option("--site", "site_id", required=True, help="Site id.")
@click.pass_context
def webhooks_remove(ctx: click.Context, webhook_id: str, site_id: str) -> None:
    from warehouse.queries import webhooks as store

    if not store.remove_webhook(warehouse_of(ctx), site_id, webhook_id):
        fail(f"no webhook {webhook_id!r} on site {site_id!r}")
    click.echo(f"webhook {webhook_id} removed")
