"""``basirat jobs …`` and ``scheduler``: mining now and on a timetable."""

from __future__ import annotations

import time

import click

from ._common import config_of, fail, migrated


@click.group()
def jobs() -> None:
    """Mining jobs."""


@jobs.command("list")
def jobs_list() -> None:
    from mining.jobs import JOBS

    for job in JOBS:
        click.echo(f"{job.id:<16} every {job.minutes:>4} min  {job.help}")


@jobs.command("run")
@click.argument("names", nargs=-1)
@click.option(
    "--full",
    is_flag=True,
    help="Rebuild visits, folded visits and every person's list from every event, not only new ones.",
)
@click.option("--site", "site_ids", multiple=True, help="Mine only this site (repeatable); default every site.")
@click.pass_context
def jobs_run(ctx: click.Context, names: tuple[str, ...], full: bool, site_ids: tuple[str, ...]) -> None:
    """Run the named jobs now (in the registry's order), or all of them."""
    from mining.jobs import BY_ID, JOBS
    from warehouse.queries.sites import list_sites

    for name in names:
        if name not in BY_ID:
            fail(f"no job {name!r}; known: {', '.join(BY_ID)}")
    wh = migrated(ctx)
    unknown = sorted(set(site_ids) - {site["site_id"] for site in list_sites(wh)})
    if unknown:
        fail(f"no site {unknown[0]!r} (see `basirat sites list`)")
    # Full: rebuild what was built before this run began (jobs sharing a rebuild do it once).
    config = {**config_of(ctx), "full": time.time_ns() if full else 0, "sites": list(site_ids)}
    for job in [job for job in JOBS if job.id in names] if names else JOBS:
        started = time.monotonic()
        job.run(wh, config, progress=click.echo)
        wh.release_memory()
        click.echo(f"{job.id}: done in {time.monotonic() - started:.1f} s")


@click.command()
@click.option("--run-now", is_flag=True, help="Run every job once at start, then on its interval.")
@click.pass_context
def scheduler(ctx: click.Context, run_now: bool) -> None:
    """Run the mining jobs on their intervals (exactly one scheduler per warehouse)."""
    from mining.jobs import JOBS
    from mining.scheduler import build_scheduler

    wh = migrated(ctx)
    for job in JOBS:
        click.echo(f"scheduled {job.id} every {job.minutes} min")
    try:
        build_scheduler(wh, config_of(ctx), background=False, run_now=run_now).start()
    except (KeyboardInterrupt, SystemExit):
        pass
