"""``basirat evaluate`` and ``basirat tune``: the recommendations, offline, on reference data or a site's own."""

from __future__ import annotations

import json

import click

from ._common import config_of, fail, known_site, migrated

DATA_DIR_HELP = "Folder of the public reference data sets (yoochoose/, instacart/, cdnow/), which are not shipped."


def _print_table(rows: list[dict]) -> None:
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        for protocol in ("next_item", "discovery"):
            part = [r for r in rows if r["dataset"] == dataset and r["protocol"] == protocol]
            if not part:
                continue
            first = part[0]
            click.echo(
                f"\n{dataset}, {protocol.replace('_', ' ')} protocol: {first['predictions']:,} predictions,"
                f" {first['test_sessions']:,} test / {first['train_sessions']:,} training sessions"
            )
            click.echo(
                f"{'strategy':<22}{'HR@20':>7} {'95% interval':<15}{'MRR@20':>7} {'95% interval':<15}{'cov@20':>7}"
            )
            for r in part:
                mark = "  <- shipped" if r["shipped"] else _versus(r)
                click.echo(
                    f"{r['strategy']:<22}{r['hr@20']:>7.3f} {_ci(r['hr@20_ci']):<15}{r['mrr@20']:>7.3f}"
                    f" {_ci(r['mrr@20_ci']):<15}{r['coverage@20']:>7.3f}{mark}"
                )


def _ci(pair: list) -> str:
    return f"[{pair[0]:.3f}, {pair[1]:.3f}]"


def _versus(row: dict) -> str:
    """Where the shipped row leads or trails this one beyond the bootstrap interval of the difference."""
    words = []
    for metric in ("hr@20", "mrr@20"):
        low, high = row["shipped_minus_this"][metric]
        if low > 0:
            words.append(f"{metric.split('@')[0].upper()} below shipped")
        elif high < 0:
            words.append(f"{metric.split('@')[0].upper()} above shipped")
    return ("  (" + "; ".join(words) + ")") if words else "  (level with shipped)"


def _splits(ctx, data_dir: str, dataset: str, site: str, test_days: float | None) -> tuple[dict, str]:
    """Named (split, test days) pairs to work on, and the site they belong to ('' for reference data)."""
    from ..evaluate_run import REFERENCE, file_split, reference_split, site_split

    if sum(bool(x) for x in (dataset, site)) > 1:
        fail("give one of --dataset and --site")
    if site:
        days = test_days or 7.0
        from recommender.session_data import DataError

        try:
            split = site_split(migrated(ctx), config_of(ctx), known_site(ctx, site), days)
        except DataError as exc:
            fail(f"site {site}: {exc}")
        return {f"site {site}": (split, days)}, site
    if dataset:
        days = test_days or 1.0
        return {dataset: (file_split(dataset, days, fail), days)}, ""
    return {name: reference_split(name, data_dir, fail) for name in REFERENCE}, ""


def _data_options(command):
    command = click.option("--test-days", type=click.FloatRange(min=0.01), help="Days held out at the end.")(command)
    command = click.option("--site", default="", help="Evaluate on this site's own visits.")(command)
    command = click.option(
        "--dataset", default="", help="A session file (SessionId ItemId Time, unix seconds) to evaluate on."
    )(command)
    return click.option("--data-dir", default="", envvar="BASIRAT_DATASETS_DIR", help=DATA_DIR_HELP)(command)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON, one object per protocol and strategy.")
@click.option("--sessions", type=click.IntRange(min=0), default=0, help="Use only the first N test sessions (0: all).")
@click.option("--clv", is_flag=True, help="Run the customer lifetime value report on CDNOW instead.")
@click.option("--no-store", is_flag=True, help="Do not record the evaluation in the warehouse.")
@click.option(
    "--matching", is_flag=True, help="Evaluate customer record matching on FEBRL instead (shipped with Basirat)."
)
@_data_options
@click.pass_context
def evaluate(ctx, as_json, sessions, clv, no_store, matching, data_dir, dataset, site, test_days) -> None:
    """Offline evaluation of the served recommendations and five baselines, in two protocols.

    With no --dataset or --site: YOOCHOOSE and Instacart from --data-dir.
    """
    from ..evaluate_run import evaluate_splits, run_clv

    progress = (lambda m: click.echo(m, err=True)) if as_json else click.echo
    if matching:
        from ..evaluate_matching import run_matching_evaluation

        run_matching_evaluation(progress, as_json)
        return
    if clv:
        report = run_clv(progress, fail, data_dir)
        click.echo(json.dumps(report, default=str) if as_json else "\n".join(f"{k}: {v}" for k, v in report.items()))
        return
    splits, site_id = _splits(ctx, data_dir, dataset, site, test_days)
    store = None if no_store else (lambda: migrated(ctx))
    rows = evaluate_splits({n: s for n, (s, _) in splits.items()}, progress, sessions, store, site_id)
    click.echo(json.dumps(rows)) if as_json else _print_table(rows)


@click.command()
@click.option("--sessions", type=click.IntRange(min=0), default=0, help="Use only N validation sessions per data set.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write the grid, figures and choice here.")
@click.option(
    "--draws", type=click.IntRange(min=1), default=60, help="Settings drawn per baseline from its published ranges."
)
@_data_options
@click.pass_context
def tune(ctx, sessions, out, draws, data_dir, dataset, site, test_days) -> None:
    """Choose the baselines' and the served ranking's parameters on validation splits of the training periods."""
    from ..evaluate_run import run_tune

    splits, _site = _splits(ctx, data_dir, dataset, site, test_days)
    record = run_tune(splits, lambda m: click.echo(m, err=True), sessions, draws)
    text = json.dumps(record, indent=1, default=float)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    for name, tuned in record["baselines"].items():
        best = tuned["chosen"]
        click.echo(f"{name}: {json.dumps(best['values'])} (validation objective {best['mean']:.4f})")
    chosen = record["chosen"]
    click.echo(
        f"served: {json.dumps(chosen['values'])} (smallest lead over the best baseline on validation:"
        f" {json.dumps(chosen['leads'])})"
    )
    click.echo(json.dumps(chosen["params"]))
