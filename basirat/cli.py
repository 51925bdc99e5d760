"""``basirat``: one command for every operation."""

from __future__ import annotations

import json
import logging
import os
import sys

import click

from . import settings


def _config(ctx: click.Context) -> dict:
    return ctx.obj["config"]


def _warehouse(ctx: click.Context):
    from warehouse import connect

    config = _config(ctx)
    if "warehouse" not in ctx.obj:
        ctx.obj["warehouse"] = connect(config["WAREHOUSE_URL"], cluster=config["CLICKHOUSE_CLUSTER"])
    return ctx.obj["warehouse"]


def _data_settings(data: str) -> dict:
    """Where the embedded warehouse and the spool live under a data folder."""
    return {"WAREHOUSE_URL": "chdb://" + os.path.abspath(os.path.join(data, "warehouse")),
            "SPOOL_DIR": os.path.join(data, "spool")}


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


class FriendlyGroup(click.Group):
    """Turns the product's own errors into one clear line, not a traceback."""

    def invoke(self, ctx):
        from warehouse import WarehouseError

        try:
            return super().invoke(ctx)
        except (WarehouseError, settings.SettingsError) as exc:
            _fail(str(exc))


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
    overrides = _data_settings(data) if data else {}
    if warehouse_url:
        overrides["WAREHOUSE_URL"] = warehouse_url
    try:
        ctx.obj = {"config": settings.load(overrides)}
    except settings.SettingsError as exc:
        _fail(str(exc))


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Apply pending schema migrations (safe to run any time)."""
    from warehouse.migrate import migrate as run

    applied = run(_warehouse(ctx), click.echo)
    click.echo(f"{len(applied)} migration(s) applied" if applied else "schema is up to date")


@main.group()
def sites() -> None:
    """Sites (stores) and their keys."""


@sites.command("create")
@click.argument("name")
@click.option("--domain", "domains", multiple=True, help="A domain of the store (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the new site as JSON.")
@click.pass_context
def sites_create(ctx: click.Context, name: str, domains: tuple[str, ...], as_json: bool) -> None:
    """Create a site and print its write key."""
    from warehouse import sites as store
    from warehouse.migrate import migrate as run

    if not name.strip():
        _fail("a site needs a name")
    wh = _warehouse(ctx.parent)
    run(wh)
    site = store.create_site(wh, name.strip(), list(domains))
    out = {"site_id": site["site_id"], "write_key": site["write_key"], "public_key": site["public_key"]}
    if as_json:
        click.echo(json.dumps(out))
    else:
        click.echo(f"site {out['site_id']} created\nwrite key:  {out['write_key']}\npublic key: {out['public_key']}")


@sites.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def sites_list(ctx: click.Context, as_json: bool) -> None:
    """List sites."""
    from warehouse import sites as store

    rows = store.list_sites(_warehouse(ctx.parent))
    if as_json:
        click.echo(json.dumps([{k: r[k] for k in ("site_id", "name", "domains")} for r in rows]))
        return
    for r in rows:
        click.echo(f"{r['site_id']}  {r['name']}  {' '.join(r['domains'])}")


@main.group()
def users() -> None:
    """Admin users (who may sign in to the web app)."""


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "analyst"]), required=True)
@click.option("--site", "site_ids", multiple=True, help="A site the user may see (repeatable; admins default to all).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin instead of generating one.")
@click.pass_context
def users_create(ctx: click.Context, email: str, role: str, site_ids: tuple[str, ...], password_stdin: bool) -> None:
    """Create a user; prints a generated password unless --password-stdin."""
    from warehouse import sites as site_store
    from warehouse.migrate import migrate as run
    from webapp import accounts

    wh = _warehouse(ctx.parent)
    run(wh)
    known = {s["site_id"] for s in site_store.list_sites(wh)}
    unknown = [s for s in site_ids if s not in known]
    if unknown:
        _fail(f"no site {unknown[0]!r}; see `basirat sites list`")
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else accounts.new_password()
    try:
        user = accounts.create(wh, email, role, password, list(site_ids))
    except accounts.AccountError as exc:
        _fail(str(exc))
    click.echo(f"user {user['email']} ({role}) created")
    if not password_stdin:
        click.echo(f"password: {password}")


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """List users."""
    from warehouse import users as store

    for u in store.list_users(_warehouse(ctx.parent)):
        sites = ",".join(u["site_ids"]) or ("all sites" if u["role"] == "admin" else "no sites")
        state = "active" if u["active"] else "deactivated"
        click.echo(f"{u['email']}  {u['role']}  {state}  {sites}")


@users.command("token")
@click.argument("email")
@click.option("--label", default="command line", show_default=True, help="What the token is for.")
@click.pass_context
def users_token(ctx: click.Context, email: str, label: str) -> None:
    """Create an admin API token for a user; prints it once (only a hash is kept)."""
    from warehouse import users as store
    from warehouse.migrate import migrate as run
    from webapp import tokens

    wh = _warehouse(ctx.parent)
    run(wh)
    user = store.find_by_email(wh, email)
    if user is None or not user["active"]:
        _fail(f"no active user {email!r}; see `basirat users list`")
    row, token = tokens.issue(wh, user["user_id"], label)
    click.echo(f"token {row['token_id']} for {user['email']} ({user['role']}); shown once:")
    click.echo(token)


@main.command()
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
    click.echo(_warehouse(ctx).text(query, fmt, readonly=True), nl=False)


@main.command()
@click.option("--host", help="Listen address (default 127.0.0.1).")
@click.option("--port", type=int, help="Listen port (default 8000).")
@click.option("--data", metavar="DIR", help="Data folder (same as the global --data).")
@click.option("--threads", type=int, default=16, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, data: str | None, threads: int) -> None:
    """Serve collector, recommendations and admin from one process (embedded)."""
    from .serve import EmbeddedServer

    config = dict(_config(ctx))
    if data:
        config.update(_data_settings(data))
    config["HOST"] = host or config["HOST"]
    config["PORT"] = port or config["PORT"]
    click.echo(f"Basirat on http://{config['HOST']}:{config['PORT']}/  (warehouse {config['WAREHOUSE_URL']})")
    EmbeddedServer(config, threads=threads).run()


@main.command()
@click.option("--once", is_flag=True, help="Load what is spooled now, then exit.")
@click.pass_context
def loader(ctx: click.Context, once: bool) -> None:
    """Drain the spool into the warehouse (server mode: one per spool folder)."""
    import signal

    from collector.loader import Loader
    from warehouse.migrate import migrate as run

    config = _config(ctx)
    wh = _warehouse(ctx)
    run(wh)
    worker = Loader(wh, config["SPOOL_DIR"], int(config["LOADER_BATCH_ROWS"]), float(config["LOADER_INTERVAL"]))
    if once:
        click.echo(f"{worker.drain()} rows loaded")
        return
    signal.signal(signal.SIGTERM, lambda *_: worker._stop.set())
    click.echo(f"loading {config['SPOOL_DIR']} into {config['WAREHOUSE_URL']}")
    try:
        worker.run()
    except KeyboardInterrupt:
        pass
    worker.drain(timeout=30)


@main.group()
def jobs() -> None:
    """Mining jobs."""


@jobs.command("list")
def jobs_list() -> None:
    from recommender.jobs import JOBS

    for job in JOBS:
        click.echo(f"{job.id:<16} every {job.minutes:>4} min  {job.help}")


@jobs.command("run")
@click.argument("name", required=False)
@click.pass_context
def jobs_run(ctx: click.Context, name: str | None) -> None:
    """Run one job now, or all of them in order."""
    from recommender.jobs import BY_ID, JOBS

    if name and name not in BY_ID:
        _fail(f"no job {name!r}; known: {', '.join(BY_ID)}")
    wh = _warehouse(ctx.parent)
    for job in [BY_ID[name]] if name else JOBS:
        job.run(wh, progress=click.echo)


@main.command()
@click.option("--host", help="Listen address (default 127.0.0.1).")
@click.option("--port", type=int, help="Listen port (default 8000).")
@click.pass_context
def demo(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the product with a real store's history loaded and mined."""
    from .demo_run import prepare
    from .serve import EmbeddedServer

    config = dict(_config(ctx))
    config["HOST"] = host or config["HOST"]
    config["PORT"] = port or config["PORT"]
    click.echo(f"Starting Basirat with the demo store on http://{config['HOST']}:{config['PORT']}/ ...")
    EmbeddedServer(config, on_ready=lambda: prepare(config, click.echo)).run()


@main.command("settings")
def show_settings() -> None:
    """Every setting with its default and meaning."""
    for s in settings.SETTINGS:
        click.echo(f"BASIRAT_{s.name} (default {s.default!r})\n    {s.help}")
