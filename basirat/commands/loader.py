"""``basirat loader``: drain the spool into the warehouse, once or until stopped."""

from __future__ import annotations

import time

import click

from ._common import config_of, migrated


def _open_when_reachable(ctx: click.Context, stop, max_backoff: float):
    """The migrated warehouse, retried with backoff while ClickHouse is down (the spool waits)."""
    from warehouse import WarehouseError

    backoff = 0.2
    while not stop.is_set():
        try:
            return migrated(ctx)
        except WarehouseError as exc:
            ctx.obj.pop("warehouse", None)
            click.echo(f"warehouse not reachable ({exc}); retrying in {backoff:.1f}s", err=True)
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff)
    return None


@click.command()
@click.option("--once", is_flag=True, help="Load what is spooled now, then exit.")
@click.pass_context
def loader(ctx: click.Context, once: bool) -> None:
    """Drain the spool into the warehouse (server mode: one per spool folder)."""
    import signal
    import threading

    from collector.loader import Loader
    from warehouse import WarehouseError

    config = config_of(ctx)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if once:
        wh = migrated(ctx)
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
