"""``basirat``: one command for every operation.

This module holds the group and its global options; the commands live in
``basirat/commands/``, one module per group or theme, and are added below.
"""

from __future__ import annotations

import logging

import click

from core import logs, private, settings

from .commands import (
    data,
    evaluation,
    experiments,
    imports,
    jobs,
    kpis,
    loader,
    people,
    quarantine,
    segments,
    servers,
    sites,
    users,
    webhooks,
)
from .commands import settings as settings_command
from .commands._common import data_settings, fail


class FriendlyGroup(click.Group):
    """Turns the product's own errors into one clear line, not a traceback."""

    def invoke(self, ctx):
        from warehouse import WarehouseError

        try:
            return super().invoke(ctx)
        except (WarehouseError, settings.SettingsError) as exc:
            fail(str(exc))


@click.group(cls=FriendlyGroup)
@click.option("--data", metavar="DIR", help="Data folder: embedded warehouse and spool go under it.")
@click.option("--warehouse", "warehouse_url", metavar="URL", help="Warehouse URL (overrides BASIRAT_WAREHOUSE_URL).")
@click.pass_context
def main(ctx: click.Context, data: str | None, warehouse_url: str | None) -> None:
    """Basirat: clickstream in; customer view, recommendations and segments out."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The driver logs each failed connect with a traceback; the product's own
    # error already says what failed, in one line.
    logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)
    overrides = data_settings(data) if data else {}
    if warehouse_url:
        overrides["WAREHOUSE_URL"] = warehouse_url
    try:
        ctx.obj = {"config": settings.load(overrides)}
        logs.configure(ctx.obj["config"]["LOG_FORMAT"])
    except settings.SettingsError as exc:
        fail(str(exc))
    private.restrict(ctx.obj["config"])  # this process and those it starts own the data folder


COMMANDS = [
    # the warehouse: schema, queries, archives
    data.migrate,
    data.sql,
    data.backup,
    data.restore,
    # servers and the loader
    servers.serve,
    servers.demo,
    servers.collector,
    servers.recommend,
    loader.loader,
    # who and what
    sites.sites,
    users.users,
    settings_command.show_settings,
    # data in
    imports.import_group,
    quarantine.quarantine,
    # mining and what it yields
    jobs.jobs,
    jobs.scheduler,
    evaluation.evaluate,
    evaluation.tune,
    experiments.experiments,
    people.people,
    segments.segments,
    webhooks.webhooks,
    kpis.kpis,
]
for command in COMMANDS:
    main.add_command(command)
