"""``basirat serve``, ``demo``, ``collector`` and ``recommend``: the commands that run servers."""

from __future__ import annotations

import os
import sys

import click

from ._common import config_of, data_settings, fail


def _listening(ctx: click.Context, host: str | None, port: int | None) -> dict:
    """A copy of this run's settings with the listen address given on the command line."""
    config = dict(config_of(ctx))
    config["HOST"] = host or config["HOST"]
    config["PORT"] = port or config["PORT"]
    return config


@click.command()
@click.option("--host", help="Listen address (default 127.0.0.1).")
@click.option("--port", type=int, help="Listen port (default 8000).")
@click.option("--data", metavar="DIR", help="Data folder (same as the global --data).")
@click.option("--threads", type=int, default=16, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, data: str | None, threads: int) -> None:
    """Serve collector, recommendations and admin from one process (embedded)."""
    from ..serve import EmbeddedServer

    config = _listening(ctx, host, port)
    if data:
        config.update(data_settings(data))
    click.echo(f"Basirat on http://{config['HOST']}:{config['PORT']}/  (warehouse {config['WAREHOUSE_URL']})")
    EmbeddedServer(config, threads=threads).run()


@click.command()
@click.option("--host", help="Listen address (default 127.0.0.1).")
@click.option("--port", type=int, help="Listen port (default 8000).")
@click.option(
    "--locale",
    type=click.Choice(["en", "fa"]),
    help="Language of the admin and the demo store; fa also shows Jalali dates in Tehran's time zone.",
)
@click.pass_context
def demo(ctx: click.Context, host: str | None, port: int | None, locale: str | None) -> None:
    """Serve the product with a real store's history loaded and mined."""
    from ..demo_run import LOCALE_DISPLAY, prepare
    from ..serve import EmbeddedServer

    config = _listening(ctx, host, port)
    config["STOREFRONT"] = True
    if locale:
        config["LOCALE"] = locale
        config.update({k.upper(): v for k, v in LOCALE_DISPLAY[locale].items() if k in ("calendar", "timezone")})
    click.echo(f"Starting Basirat with the demo store on http://{config['HOST']}:{config['PORT']}/ ...")
    EmbeddedServer(config, on_ready=lambda: prepare(config, click.echo)).run()


@click.command()
@click.option("--host", help="Listen address (default 127.0.0.1; 0.0.0.0 in a container).")
@click.option("--port", type=int, help="Listen port (default 8000).")
@click.option("--workers", type=int, help="Worker processes (default BASIRAT_COLLECTOR_WORKERS, 0: two per core).")
@click.pass_context
def collector(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the collector alone under gunicorn (server mode; run `basirat loader` beside it)."""
    config = dict(config_of(ctx))
    overrides = {"HOST": host, "PORT": port, "COLLECTOR_WORKERS": workers}
    config.update({k: v for k, v in overrides.items() if v is not None})
    url = config["WAREHOUSE_URL"]
    if url.startswith("chdb://") and not os.path.exists(os.path.join(url[len("chdb://") :], "basirat.sock")):
        fail(
            f"{url} is an embedded warehouse and no `basirat serve` runs on it: start `basirat serve` on the "
            "same --data (the collector then reaches it through its socket) or pass --warehouse clickhouse://..."
        )
    env = {**os.environ, **{f"BASIRAT_{k}": str(v) for k, v in config.items()}}
    click.echo(f"collector on http://{config['HOST']}:{config['PORT']}/  (spool {config['SPOOL_DIR']})")
    command = [sys.executable, "-m", "gunicorn", "--config", "python:collector.gunicorn_conf", "collector.wsgi:app"]
    os.execvpe(command[0], command, env)


@click.command()
@click.option("--host", help="Listen address (default 127.0.0.1).")
@click.option("--port", type=int, help="Listen port (default 8000).")
@click.option("--workers", type=int, default=2, show_default=True, help="Processes (one per core).")
@click.pass_context
def recommend(ctx: click.Context, host: str | None, port: int | None, workers: int) -> None:
    """Serve only /v1/recommendations, in several processes (reads the warehouse in the background)."""
    from ..recommend_serve import RecommendServer

    config = _listening(ctx, host, port)
    click.echo(f"recommendations on http://{config['HOST']}:{config['PORT']}/v1/recommendations ({workers} workers)")
    RecommendServer(config, workers=workers).run()
