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

from .evaluate import SHIPPED, evaluate_split, served_models
from .ranking import SERVED, RankingParams
from .session_data import Split, subsample, time_split

GRID = {
    "stan.recency": [7 * 86400.0, 1e9],
    "stan.position": [2.0, 10.0],
    "stan.distance": [100.0],
    "vsknn": [0.5, 2.0],
    "sequential": [0.0, 0.25],
    "repeat_decay": [1.0, 2.0],
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
    mined = {name: served_models(split.train) for name, split in validations.items()}
    for combination in itertools.product(*(grid[k] for k in keys)):
        values = dict(zip(keys, combination))
        params = base.with_values(values)
        scores: dict = {}
        for name, split in validations.items():
            rows = evaluate_split(
                split, progress=lambda _m: None, params=params, baselines=False, rounds=0, served=mined[name]
            )
            scores[name] = round(float(objective(rows)), 5)
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
