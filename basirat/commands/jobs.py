"""``basirat jobs …``, ``scheduler`` and ``evaluate``: mining now, on a timetable, and offline."""

from __future__ import annotations

import json
import time

import click

from ._common import config_of, fail, migrated, warehouse_of


@click.group()
def jobs() -> None:
    """Mining jobs."""


@jobs.command("list")
def jobs_list() -> None:
    from mining.jobs import JOBS

    for job in JOBS:
        click.echo(f"{job.id:<16} every {job.minutes:>4} min  {job.help}")


@jobs.command("run")
@click.argument("name", required=False)
@click.option("--full", is_flag=True, help="Rebuild visits and folded visits from every event, not only new ones.")
@click.pass_context
def jobs_run(ctx: click.Context, name: str | None, full: bool) -> None:
    """Run one job now, or all of them in order."""
    from mining.jobs import BY_ID, JOBS

    if name and name not in BY_ID:
        fail(f"no job {name!r}; known: {', '.join(BY_ID)}")
    wh = migrated(ctx)
    # Full: rebuild what was built before this run began (jobs sharing a rebuild do it once).
    config = {**config_of(ctx), "full": time.time_ns() if full else 0}
    for job in [BY_ID[name]] if name else JOBS:
        job.run(wh, config, progress=click.echo)


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


def _print_table(rows: list[dict]) -> None:
    click.echo(f"{'strategy':<14}{'HR@20':>8}{'MRR@20':>8}{'cov@20':>8}{'pop@20':>8}")
    for row in rows:
        mark = "  <- shipped" if row["shipped"] else ""
        click.echo(
            f"{row['strategy']:<14}{row['hr@20']:>8.3f}{row['mrr@20']:>8.3f}"
            f"{row['coverage@20']:>8.3f}{row['popularity@20']:>8.3f}{mark}"
        )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON, one object per strategy.")
@click.option("--sessions", type=click.IntRange(min=0), default=0, help="Use only the first N test sessions (0: all).")
@click.option("--clv", is_flag=True, help="Also run the customer lifetime value report.")
@click.option("--no-store", is_flag=True, help="Do not record the evaluation in the warehouse.")
@click.option(
    "--matching", is_flag=True, help="Evaluate customer record matching on FEBRL instead (shipped with Basirat)."
)
@click.option(
    "--data-dir",
    default="",
    envvar="BASIRAT_DATASETS_DIR",
    help="Folder of the public reference data sets (yoochoose/, cdnow/), which are not shipped.",
)
@click.pass_context
def evaluate(
    ctx: click.Context, as_json: bool, sessions: int, clv: bool, no_store: bool, matching: bool, data_dir: str
) -> None:
    """Offline evaluation on YOOCHOOSE (next-item, HR/MRR/coverage/popularity @20)."""
    from ..evaluate_run import run_clv, run_evaluation

    progress = (lambda m: click.echo(m, err=True)) if as_json else click.echo
    if matching:
        from ..evaluate_matching import run_matching_evaluation

        run_matching_evaluation(progress, as_json)
        return
    if clv:
        report = run_clv(progress, fail, data_dir)
        click.echo(json.dumps(report, default=str) if as_json else "\n".join(f"{k}: {v}" for k, v in report.items()))
        return
    store = None if no_store else (lambda: warehouse_of(ctx))
    rows = run_evaluation(progress, sessions=sessions, store=store, fail=fail, data_dir=data_dir)
    if as_json:
        click.echo(json.dumps(rows))
    else:
        _print_table(rows)
