"""Choosing the served ranking's parameters on a validation split, never on test.

The validation split is cut from the end of the training period exactly as
the test split is cut from the whole (``session_data.time_split``); each
combination of the grid is scored through the served path on it, in both
protocols, and the one with the best mean of HR@20 and MRR@20 over both
protocols (and over every data set given) is chosen. The grid, every
combination's figures and the choice are returned so they can be recorded.
"""

from __future__ import annotations

import itertools
from typing import Callable

from .evaluate import SHIPPED, evaluate_split
from .ranking import SERVED, RankingParams
from .session_data import Split, subsample, time_split

GRID = {
    "sequential": [0.0, 0.5, 1.0, 2.0],
    "sequential_items": [1, 3],
    "stan.k": [100, 250],
    "stan.position": [1.0, 2.0, 4.0],
}


def validation_split(split: Split, test_days: float, sessions: int = 0) -> Split:
    """The last ``test_days`` of the training period as validation, what precedes it as training."""
    return subsample(time_split(split.train, test_days), sessions)


def objective(rows: list[dict]) -> float:
    shipped = [r for r in rows if r["strategy"] == SHIPPED[r["protocol"]]]
    return sum(r["hr@20"] + r["mrr@20"] for r in shipped) / (2 * len(shipped))


def tune(
    validations: dict[str, Split],
    grid: dict = GRID,
    progress: Callable[[str], None] = print,
    base: RankingParams = SERVED,
) -> dict:
    """Score every combination of ``grid`` on each validation split; the best mean objective wins.

    Returns
    -------
    dict
        ``grid``, ``validation`` (sizes per data set), ``results`` (one per
        combination: values, objective per data set and mean) and ``chosen``
        (the winning values and the full parameters they give).
    """
    keys = list(grid)
    results = []
    for combination in itertools.product(*(grid[k] for k in keys)):
        values = dict(zip(keys, combination))
        params = base.with_values(values)
        scores = {}
        for name, split in validations.items():
            rows = evaluate_split(split, progress=lambda _m: None, params=params, baselines=False, rounds=0)
            scores[name] = round(objective(rows), 5)
        mean = round(sum(scores.values()) / len(scores), 5)
        results.append({"values": values, "objective": scores, "mean": mean})
        progress(f"  {values}  {scores}  mean {mean:.4f}")
    best = max(results, key=lambda r: r["mean"])
    return {
        "grid": grid,
        "validation": {name: split.describe() for name, split in validations.items()},
        "results": results,
        "chosen": {
            "values": best["values"],
            "mean": best["mean"],
            "params": base.with_values(best["values"]).describe(),
        },
    }
