"""``basirat``: one command for every operation."""

from __future__ import annotations

import json
import logging
import os
import sys
import time

import click

from core import logs, settings


def _config(ctx: click.Context) -> dict:
    return ctx.obj["config"]


def _warehouse(ctx: click.Context):
    from core import connect

    config = _config(ctx)
    if "warehouse" not in ctx.obj:
        ctx.obj["warehouse"] = connect(config)
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
        logs.configure(ctx.obj["config"]["LOG_FORMAT"])
    except settings.SettingsError as exc:
        _fail(str(exc))


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Apply pending schema migrations (safe to run any time)."""
    from warehouse.engine.migrate import migrate as run

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
    from warehouse.engine.migrate import migrate as run
    from warehouse.queries import sites as store

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
    from warehouse.queries import sites as store

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
    from warehouse.engine.migrate import migrate as run
    from warehouse.queries import sites as site_store
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
    from warehouse.queries import users as store

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
    from warehouse.engine.migrate import migrate as run
    from warehouse.queries import users as store
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


def _open_when_reachable(ctx: click.Context, stop, max_backoff: float):
    """The migrated warehouse, retried with backoff while ClickHouse is down (the spool waits)."""
    from warehouse import WarehouseError
    from warehouse.engine.migrate import migrate as run

    backoff = 0.2
    while not stop.is_set():
        try:
            wh = _warehouse(ctx)
            run(wh)
            return wh
        except WarehouseError as exc:
            ctx.obj.pop("warehouse", None)
            click.echo(f"warehouse not reachable ({exc}); retrying in {backoff:.1f}s", err=True)
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff)
    return None


@main.command()
@click.option("--once", is_flag=True, help="Load what is spooled now, then exit.")
@click.pass_context
def loader(ctx: click.Context, once: bool) -> None:
    """Drain the spool into the warehouse (server mode: one per spool folder)."""
    import signal
    import threading

    from collector.loader import Loader
    from warehouse import WarehouseError
    from warehouse.engine.migrate import migrate as run

    config = _config(ctx)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if once:
        wh = _warehouse(ctx)
        run(wh)
    else:
        wh = _open_when_reachable(ctx, stop, float(config["LOADER_MAX_BACKOFF"]))
        if wh is None:
            return
    worker = Loader(
        wh,
        config["SPOOL_DIR"],
        int(config["LOADER_BATCH_ROWS"]),
        float(config["LOADER_INTERVAL"]),
        float(config["LOADER_MAX_BACKOFF"]),
        config=config,
    )
    if once:
        started = time.monotonic()

        def progress(loaded: int, left: int) -> None:
            rate = loaded / max(time.monotonic() - started, 1e-9)
            click.echo(f"{loaded} rows loaded ({rate:.0f} rows/s), {left / 1e6:.1f} MB left", err=True)

        click.echo(f"{worker.drain(timeout=None, progress=progress)} rows loaded")
        return
    worker._stop = stop
    click.echo(f"loading {config['SPOOL_DIR']} into {config['WAREHOUSE_URL']}")
    try:
        worker.run()
    except KeyboardInterrupt:
        pass
    try:
        worker.drain(timeout=30)
    except WarehouseError as exc:
        click.echo(f"stopped with rows still spooled ({exc}); they load on the next start", err=True)


@main.command()
@click.option("--host", help="Listen address (default 127.0.0.1; 0.0.0.0 in a container).")
@click.option("--port", type=int, help="Listen port (default 8000).")
@click.option("--workers", type=int, help="Worker processes (default BASIRAT_COLLECTOR_WORKERS, 0: two per core).")
@click.pass_context
def collector(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the collector alone under gunicorn (server mode; run `basirat loader` beside it)."""
    config = dict(_config(ctx))
    overrides = {"HOST": host, "PORT": port, "COLLECTOR_WORKERS": workers}
    config.update({k: v for k, v in overrides.items() if v is not None})
    url = config["WAREHOUSE_URL"]
    if url.startswith("chdb://") and not os.path.exists(os.path.join(url[len("chdb://") :], "basirat.sock")):
        _fail(
            f"{url} is an embedded warehouse and no `basirat serve` runs on it: start `basirat serve` on the "
            "same --data (the collector then reaches it through its socket) or pass --warehouse clickhouse://..."
        )
    env = {**os.environ, **{f"BASIRAT_{k}": str(v) for k, v in config.items()}}
    click.echo(f"collector on http://{config['HOST']}:{config['PORT']}/  (spool {config['SPOOL_DIR']})")
    command = [sys.executable, "-m", "gunicorn", "--config", "python:collector.gunicorn_conf", "collector.wsgi:app"]
    os.execvpe(command[0], command, env)


@main.group()
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

    wh = _warehouse(ctx.parent)
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
    from warehouse.engine.migrate import migrate as run

    wh = _warehouse(ctx.parent)
    run(wh)
    result = replay(wh, _config(ctx.parent), site_id)
    click.echo(
        f"{result['loaded']} loaded, {result['duplicates']} already loaded, "
        f"{result['still_rejected']} still rejected (kept in quarantine)"
    )


@main.group()
def jobs() -> None:
    """Mining jobs."""


@jobs.command("list")
def jobs_list() -> None:
    from mining.jobs import JOBS

    for job in JOBS:
        click.echo(f"{job.id:<16} every {job.minutes:>4} min  {job.help}")


@jobs.command("run")
@click.argument("name", required=False)
@click.pass_context
def jobs_run(ctx: click.Context, name: str | None) -> None:
    """Run one job now, or all of them in order."""
    from mining.jobs import BY_ID, JOBS

    if name and name not in BY_ID:
        _fail(f"no job {name!r}; known: {', '.join(BY_ID)}")
    from warehouse.engine.migrate import migrate as run

    wh = _warehouse(ctx.parent)
    run(wh)
    for job in [BY_ID[name]] if name else JOBS:
        job.run(wh, _config(ctx.parent), progress=click.echo)


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
    config["STOREFRONT"] = True
    click.echo(f"Starting Basirat with the demo store on http://{config['HOST']}:{config['PORT']}/ ...")
    EmbeddedServer(config, on_ready=lambda: prepare(config, click.echo)).run()


@main.command("settings")
def show_settings() -> None:
    """Every setting with its default and meaning."""
    for s in settings.SETTINGS:
        click.echo(f"BASIRAT_{s.name} (default {s.default!r})\n    {s.help}")


@main.command()
@click.argument("dest", metavar="ARCHIVE")
@click.pass_context
def backup(ctx: click.Context, dest: str) -> None:
    """Archive the embedded warehouse and spool (stop `basirat serve` first)."""
    from .backup import BackupError
    from .backup import backup as run

    try:
        click.echo(run(_config(ctx), dest))
    except BackupError as exc:
        _fail(str(exc))


@main.command()
@click.argument("src", metavar="ARCHIVE")
@click.option("--force", is_flag=True, help="Replace existing data (it is moved aside, not deleted).")
@click.pass_context
def restore(ctx: click.Context, src: str, force: bool) -> None:
    """Restore the embedded warehouse and spool from a `basirat backup` archive."""
    from .backup import BackupError
    from .backup import restore as run

    try:
        click.echo(run(_config(ctx), src, force))
    except BackupError as exc:
        _fail(str(exc))
from .cli_people import import_group, people  # noqa: E402  (commands that need the group above)

main.add_command(import_group)
main.add_command(people)


@main.command()
@click.option("--run-now", is_flag=True, help="Run every job once at start, then on its interval.")
@click.pass_context
def scheduler(ctx: click.Context, run_now: bool) -> None:
    """Run the mining jobs on their intervals (exactly one scheduler per warehouse)."""
    from mining.jobs import JOBS
    from mining.scheduler import build_scheduler
    from warehouse.engine.migrate import migrate as run

    wh = _warehouse(ctx)
    run(wh)
    for job in JOBS:
        click.echo(f"scheduled {job.id} every {job.minutes} min")
    try:
        build_scheduler(wh, _config(ctx), background=False, run_now=run_now).start()
    except (KeyboardInterrupt, SystemExit):
        pass


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON, one object per strategy.")
@click.option(
    "--sessions", type=click.IntRange(min=0), default=0, help="Use only the first N test sessions (0: all)."
)
@click.option("--clv", is_flag=True, help="Also run the customer lifetime value report.")
@click.option("--no-store", is_flag=True, help="Do not record the evaluation in the warehouse.")
@click.option(
    "--data-dir",
    default="",
    envvar="BASIRAT_DATASETS_DIR",
    help="Folder of the public reference data sets (yoochoose/, cdnow/), which are not shipped.",
)
@click.pass_context
def evaluate(ctx: click.Context, as_json: bool, sessions: int, clv: bool, no_store: bool, data_dir: str) -> None:
    """Offline evaluation on YOOCHOOSE (next-item, HR/MRR/coverage/popularity @20)."""
    from .evaluate_run import run_clv, run_evaluation

    progress = (lambda m: click.echo(m, err=True)) if as_json else click.echo
    if clv:
        report = run_clv(progress, _fail, data_dir)
        click.echo(json.dumps(report, default=str) if as_json else "\n".join(f"{k}: {v}" for k, v in report.items()))
        return
    store = None if no_store else (lambda: _warehouse(ctx))
    rows = run_evaluation(progress, sessions=sessions, store=store, fail=_fail, data_dir=data_dir)
    if as_json:
        click.echo(json.dumps(rows))
        return
    click.echo(f"{'strategy':<14}{'HR@20':>8}{'MRR@20':>8}{'cov@20':>8}{'pop@20':>8}")
    for row in rows:
        mark = "  <- shipped" if row["shipped"] else ""
        click.echo(
            f"{row['strategy']:<14}{row['hr@20']:>8.3f}{row['mrr@20']:>8.3f}"
            f"{row['coverage@20']:>8.3f}{row['popularity@20']:>8.3f}{mark}"
        )


@main.command()
@click.option("--host", help="Listen address (default 127.0.0.1).")
@click.option("--port", type=int, help="Listen port (default 8000).")
@click.option("--workers", type=int, default=2, show_default=True, help="Processes (one per core).")
@click.pass_context
def recommend(ctx: click.Context, host: str | None, port: int | None, workers: int) -> None:
    """Serve only /v1/recommendations, in several processes (reads the warehouse in the background)."""
    from .recommend_serve import RecommendServer

    config = dict(_config(ctx))
    config["HOST"] = host or config["HOST"]
    config["PORT"] = port or config["PORT"]
    click.echo(f"recommendations on http://{config['HOST']}:{config['PORT']}/v1/recommendations ({workers} workers)")
    RecommendServer(config, workers=workers).run()
@main.group()
def segments() -> None:
    """Segments: sizes, members and CSV export."""


@segments.command("list")
@click.option("--site", "site_id", required=True, help="Site id.")
@click.pass_context
def segments_list(ctx: click.Context, site_id: str) -> None:
    """Every segment of a site with its current size."""
    from warehouse.queries import segments as store

    rows = store.segment_sizes(_warehouse(ctx.parent), site_id)
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

    wh = _warehouse(ctx.parent)
    known = {row["segment"] for row in store.segment_sizes(wh, site_id)}
    if name not in known:
        _fail(f"segment {name!r} has no members on site {site_id!r}; see `basirat segments list --site {site_id}`")
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

    click.echo(to_csv(site_audience(_warehouse(ctx.parent), site_id, product_id, limit)), nl=False)


@main.group()
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
        validate_target(url, _config(ctx.parent)["WEBHOOK_ALLOW_PRIVATE"])
    except WebhookRefused as exc:
        _fail(str(exc))
    hook = store.add_webhook(_warehouse(ctx.parent), site_id, url, list(segment_names))
    click.echo(f"webhook {hook['webhook_id']} added\nsigning secret: {hook['secret']}")


@webhooks.command("list")
@click.option("--site", "site_id", required=True, help="Site id.")
@click.pass_context
def webhooks_list(ctx: click.Context, site_id: str) -> None:
    from warehouse.queries import webhooks as store

    for hook in store.list_webhooks(_warehouse(ctx.parent), site_id):
        click.echo(f"{hook['webhook_id']}  {hook['url']}  {' '.join(hook['segments']) or '(all segments)'}")


@webhooks.command("remove")
@click.argument("webhook_id")
@click.option("--site", "site_id", required=True, help="Site id.")
@click.pass_context
def webhooks_remove(ctx: click.Context, webhook_id: str, site_id: str) -> None:
    from warehouse.queries import webhooks as store

    if not store.remove_webhook(_warehouse(ctx.parent), site_id, webhook_id):
        _fail(f"no webhook {webhook_id!r} on site {site_id!r}")
    click.echo(f"webhook {webhook_id} removed")


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
        count = define_custom(_warehouse(ctx.parent), site_id, name, definition)
    except json.JSONDecodeError as exc:
        _fail(f"--where is not valid JSON: {exc}")
    except ConditionError as exc:
        _fail(str(exc))
    click.echo(f"segment {name} defined: {count} people match now")


@segments.command("drop")
@click.argument("name")
@click.option("--site", "site_id", required=True, help="Site id.")
@click.pass_context
def segments_drop(ctx: click.Context, name: str, site_id: str) -> None:
    """Remove custom segment NAME; its members leave on the next segments run."""
    from warehouse.queries import conditions

    wh = _warehouse(ctx.parent)
    found = [s for s in conditions.custom_segments(wh, site_id) if s["name"] == name]
    if not found:
        _fail(f"no custom segment {name!r} on site {site_id!r}")
    conditions.define_segment(wh, site_id, name, found[0]["conditions"], deleted=1)
    click.echo(f"segment {name} dropped")


@main.command()
@click.option("--site", "site_id", required=True, help="Site id.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (UTC).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day (UTC), inclusive.")
@click.option("--segment", help="Only current members of this segment.")
@click.pass_context
def kpis(ctx: click.Context, site_id: str, start, end, segment: str | None) -> None:
    """The dashboard's KPIs for a date range, as JSON."""
    from warehouse.queries import kpis as store

    board = store.dashboard(_warehouse(ctx), site_id, start.date(), end.date(), segment)
    click.echo(json.dumps(board, default=str, indent=1))
