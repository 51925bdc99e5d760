"""``basirat evaluate --matching``: pairwise quality of record matching on the shipped FEBRL sets."""

from __future__ import annotations

import json
from typing import Callable

import click


def run_matching_evaluation(progress: Callable[[str], None], as_json: bool) -> None:
    """Tune the link weight on FEBRL 1, report on FEBRL 2 beside Splink's defaults and exact rules only."""
    from matching.evaluate import evaluate_matching, meets_goal

    rows = evaluate_matching(progress)
    if as_json:
        click.echo(json.dumps(rows))
        return
    click.echo(f"{'data':<18}{'method':<30}{'pairs':>7}{'precision':>11}{'recall':>9}{'F1':>8}{'seconds':>9}")
    for row in rows:
        click.echo(
            f"{row['data']:<18}{row['method']:<30}{row['pairs']:>7}{row['precision']:>11.4f}"
            f"{row['recall']:>9.4f}{row['f1']:>8.4f}{row['seconds']:>9.2f}"
        )
    goal = "met" if meets_goal(rows) else "NOT met"
    click.echo(f"goal (precision >= 0.99 and recall >= 0.95 on the test set, shipped settings): {goal}")
