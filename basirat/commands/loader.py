"""``basirat loader``: drain the spool into the warehouse, once or until stopped."""

from __future__ import annotations

import threading
import time

import click

from ._common import config_of, migrated


def _stop_on_sigterm() -> threading.Event:
    """An event that SIGTERM sets, so the loader finishes its pass and drains."""
    import signal

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return stop


def _open_when_reachable(ctx: click.Context, stop: threading.Event, max_backoff: float):
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


def _load_what_is_spooled(worker) -> None:
    """One drain of what is spooled now, with progress on stderr."""
    worker.start_workers()
    started = time.monotonic()

    def progress(loaded: int, left: int) -> None:
        rate = loaded / max(time.monotonic() - started, 1e-9)
        click.echo(f"{loaded} rows loaded ({rate:.0f} rows/s), {left / 1e6:.1f} MB left", err=True)

    try:
        click.echo(f"{worker.drain(timeout=None, progress=progress)} rows loaded")
    finally:
        worker.stop(drain=False)


def _load_until_stopped(worker, stop: threading.Event, config: dict) -> None:
    """Load as rows arrive until ``stop`` or Ctrl-C, then drain what is left (for at most 30 s)."""
    from concurrent.futures.process import BrokenProcessPool

    from warehouse import WarehouseError

    worker._stop = stop
    click.echo(f"loading {config['SPOOL_DIR']} into {config['WAREHOUSE_URL']}")
    try:
        worker.run()
    except KeyboardInterrupt:
        pass
    try:
        worker.drain(timeout=30)
    except (WarehouseError, BrokenProcessPool) as exc:
        click.echo(f"stopped with rows still spooled ({exc}); they load on the next start", err=True)
    finally:
        worker.stop(drain=False)


@click.command()
@click.option("--once", is_flag=True, help="Load what is spooled now, then exit.")
@click.pass_context
def loader(ctx: click.Context, once: bool) -> None:
    """Drain the spool into the warehouse (server mode: one per spool folder)."""
    from ..serve import spool_loader

    config = config_of(ctx)
    stop = _stop_on_sigterm()
    if once:
        _load_what_is_spooled(spool_loader(config, migrated(ctx)))
        return
    warehouse = _open_when_reachable(ctx, stop, float(config["LOADER_MAX_BACKOFF"]))
    if warehouse is not None:
        _load_until_stopped(spool_loader(config, warehouse), stop, config)
