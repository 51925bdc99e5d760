"""What every command shares: the loaded settings, one warehouse per run, errors as one line.

The group in ``basirat.cli`` puts ``{"config": ...}`` in ``ctx.obj``; every
subcommand's context shares that same dict, so any context reaches it.
"""

from __future__ import annotations

import os
import sys

import click


def config_of(ctx: click.Context) -> dict:
    """The settings this run was started with."""
    return ctx.obj["config"]


def warehouse_of(ctx: click.Context):
    """The warehouse of this run, connected on first use and then reused."""
    from core import connect

    if "warehouse" not in ctx.obj:
        ctx.obj["warehouse"] = connect(config_of(ctx))
    return ctx.obj["warehouse"]


def migrated(ctx: click.Context):
    """The warehouse of this run with every pending migration applied."""
    from warehouse.engine.migrate import migrate

    warehouse = warehouse_of(ctx)
    migrate(warehouse)
    return warehouse


def known_site(ctx: click.Context, site_id: str) -> str:
    """``site_id`` if the (migrated) warehouse has that site; otherwise the command stops."""
    from warehouse.queries import sites

    if sites.get_site(migrated(ctx), site_id) is None:
        fail(f"no site {site_id!r} (see `basirat sites list`)")
    return site_id


def data_settings(data: str) -> dict:
    """Where the embedded warehouse and the spool live under a data folder."""
    return {
        "WAREHOUSE_URL": "chdb://" + os.path.abspath(os.path.join(data, "warehouse")),
        "SPOOL_DIR": os.path.join(data, "spool"),
    }


def fail(message: str) -> None:
    """Print ``error: message`` on stderr and exit 1."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)
