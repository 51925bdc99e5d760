"""``basirat migrate``, ``sql``, ``backup`` and ``restore``: the warehouse's schema and data."""

from __future__ import annotations

import click

from ._common import config_of, fail, warehouse_of


@click.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Apply pending schema migrations (safe to run any time)."""
    from warehouse.engine.migrate import migrate as run

    applied = run(warehouse_of(ctx), click.echo)
    click.echo(f"{len(applied)} migration(s) applied" if applied else "schema is up to date")


@click.command()
@click.argument("query")
@click.option(
    "--format",
    "fmt",
    default="PrettyCompact",
    show_default=True,
    type=click.Choice(["CSV", "CSVWithNames", "TSV", "TSVWithNames", "JSONEachRow", "PrettyCompact"]),
)
@click.pass_context
def sql(ctx: click.Context, query: str, fmt: str) -> None:
    """Run a read-only query against the warehouse."""
    click.echo(warehouse_of(ctx).text(query, fmt, readonly=True), nl=False)


@click.command()
@click.argument("dest", metavar="ARCHIVE")
@click.pass_context
def backup(ctx: click.Context, dest: str) -> None:
    """Archive the embedded warehouse and spool (stop `basirat serve` first)."""
    from ..backup import BackupError
    from ..backup import backup as run

    try:
        click.echo(run(config_of(ctx), dest))
    except BackupError as exc:
        fail(str(exc))


@click.command()
@click.argument("src", metavar="ARCHIVE")
@click.option("--force", is_flag=True, help="Replace existing data (it is moved aside, not deleted).")
@click.pass_context
def restore(ctx: click.Context, src: str, force: bool) -> None:
    """Restore the embedded warehouse and spool from a `basirat backup` archive."""
    from ..backup import BackupError
    from ..backup import restore as run

    try:
        click.echo(run(config_of(ctx), src, force))
    except BackupError as exc:
        fail(str(exc))
