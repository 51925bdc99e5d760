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
import random
import time
from typing import Callable

from .baselines import DEFAULTS, GRIDS, Baselines, _as_dict
from .evaluate import (
    PROTOCOLS,
    SHIPPED,
    Tally,
    evaluate_split,
    metrics_for,
    protocol_metrics,
    served_models,
    tally_scorers,
    test_sessions,
)
from .ranking import SERVED, RankingParams
from .sequential import pair_counts, sequential_rules
from .session_data import Split, subsample, time_split
from .session_knn import SessionIndex

GRID = {
    "vsknn": [0.5, 1.0, 2.0],
    "sequential": [0.0, 0.25, 0.5],
    "sequential_items": [1, 3],
    "stan.position": [2.0, 10.0],
    "repeat_decay": [1.0, 2.0],
}
METRICS = ("hr@20", "mrr@20")


def validation_split(split: Split, test_days: float, sessions: int = 0) -> Split:
    """The last ``test_days`` of the training period as validation, what precedes it as training."""
    return subsample(time_split(split.train, test_days), sessions)


def served_figures(rows: list[dict]) -> dict:
    """HR@20 and MRR@20 per protocol of the shipped rows (seen shown in next item, hidden in discovery)."""
    return {r["protocol"]: {m: r[m] for m in METRICS} for r in rows if r["strategy"] == SHIPPED[r["protocol"]]}


def objective(rows: list[dict]) -> float:
    return _mean(served_figures(rows))


def best_baselines(baselines: dict) -> dict:
    """Per data set, protocol and metric, the best figure of any tuned baseline on validation."""
    best: dict = {}
    for tuned in baselines.values():
        for dataset, figures in tuned["chosen"]["figures"].items():
            for protocol, metrics in figures.items():
                for metric, value in metrics.items():
                    key = (dataset, protocol, metric)
                    best[key] = max(best.get(key, 0.0), value)
    return best


def lead(figures: dict, best: dict, protocols: tuple = PROTOCOLS) -> float:
    """The served ranking's smallest relative lead over the best baseline, over data sets, protocols and metrics."""
    return min(figures[d][p][m] / v - 1.0 if v > 0 else 0.0 for (d, p, m), v in best.items() if p in protocols)


def choose(results: list[dict], best: dict) -> dict:
    """The combination for each protocol: seen products shown (next item) and hidden (discovery).

    The two lists are ranked by the same code with different parameters
    (``RankingParams.discovery``), and each protocol's figures depend only on
    its own list, so each is chosen on its own: the largest smallest lead over
    the best baseline (or, without baselines, the best mean), ties to the
    better mean.
    """
    chosen = {}
    for protocol in PROTOCOLS:

        def score(result, protocol=protocol):
            own = {d: {protocol: f[protocol]} for d, f in result["figures"].items()}
            return (lead(result["figures"], best, (protocol,)) if best else 0.0, _mean_over(own))

        winner = max(results, key=score)
        chosen[protocol] = {"values": winner["values"], "lead": round(score(winner)[0], 5) if best else None}
    return chosen


def _mean_over(figures: dict) -> float:
    values = [f[m] for per in figures.values() for f in per.values() for m in METRICS]
    return sum(values) / len(values)


def tune(
    validations: dict[str, Split],
    grid: dict = GRID,
    progress: Callable[[str], None] = print,
    base: RankingParams = SERVED,
    baselines: dict | None = None,
) -> dict:
    """Score every combination of ``grid`` on each validation split and choose (``choose``).

    With ``baselines`` (``tune_baselines``' record) each protocol's choice is
    the combination whose smallest lead over the best tuned baseline (over
    data sets and metrics) is largest, since the served ranking is meant to
    beat each of them; without, the best mean of HR@20 and MRR@20.

    Returns
    -------
    dict
        ``grid``, ``validation`` (sizes per data set), ``results`` (one per
        combination: values, figures, objective per data set, mean, lead) and
        ``chosen`` (the winning values and the full parameters they give).
    """
    keys = list(grid)
    best = best_baselines(baselines) if baselines else {}
    results = []
    mined = {name: served_models(split.train) for name, split in validations.items()}
    combinations = []
    for combination in itertools.product(*(grid[k] for k in keys)):
        values = dict(zip(keys, combination))
        if values.get("sequential") == 0 and "sequential_items" in values:
            values["sequential_items"] = grid["sequential_items"][0]  # no rules: how many vote is moot
        if values not in combinations:
            combinations.append(values)
    for values in combinations:
        params = base.with_values(values)
        figures, scores = {}, {}
        for name, split in validations.items():
            rows = evaluate_split(
                split, progress=lambda _m: None, params=params, baselines=False, rounds=0, served=mined[name]
            )
            figures[name] = _rounded(served_figures(rows))
            scores[name] = round(float(objective(rows)), 5)
        mean = round(sum(scores.values()) / len(scores), 5)
        result = {"values": values, "figures": figures, "objective": scores, "mean": mean}
        if best:
            result["lead"] = round(lead(figures, best), 5)
        results.append(result)
        progress(f"  {values}  {scores}  mean {mean:.4f}" + (f"  lead {result['lead']:+.4f}" if best else ""))
    return {
        "grid": grid,
        "base": base.describe(),
        "validation": {name: split.describe() for name, split in validations.items()},
        "results": results,
        "chosen": chosen_params(results, best, base),
    }


def chosen_params(results: list[dict], best: dict, base: RankingParams) -> dict:
    """The record's choice: next-item values, discovery overrides, and the full parameters they give."""
    chosen = choose(results, best)
    shown, hidden = chosen["next_item"], chosen["discovery"]
    values = {**shown["values"], "discovery": hidden["values"]}
    leads = [c["lead"] for c in (shown, hidden) if c["lead"] is not None]
    return {
        "values": values,
        "lead": min(leads) if leads else None,
        "leads": {"next_item": shown["lead"], "discovery": hidden["lead"]},
        "params": base.with_values(values).describe(),
    }


def draws(grid: dict, count: int, seed: int = 0) -> list[dict]:
    """Every combination of ``grid`` if there are at most ``count``, else ``count`` distinct ones at random.

    session-rec tunes its baselines by random search over these ranges; a
    fixed seed makes the draw the same on every run.
    """
    keys = list(grid)
    every = [dict(zip(keys, c)) for c in itertools.product(*(grid[k] for k in keys))]
    if len(every) <= count:
        return every
    return random.Random(seed).sample(every, count)


def _baseline_scorer(name: str, values: dict, train, index: SessionIndex):
    """One baseline's scorer for one setting (the rules mined afresh, the kNN index shared)."""
    trained = Baselines(index, {}, {}, {**DEFAULTS, name: values})
    if name == "ar":
        trained.ar = _as_dict(index, pair_counts(train, per_item=values["pruning"]))
    elif name == "sr":
        rules = sequential_rules(
            train, steps=values["steps"], per_item=values["pruning"], weighting=values["weighting"]
        )
        trained.sr = _as_dict(index, rules)
    return trained.scorers()[name]


def baseline_figures(split: Split, index: SessionIndex, sessions: list, name: str, values: dict) -> dict:
    """HR@20 and MRR@20 per protocol of one baseline setting on one validation split."""
    tallies = {(p, name): Tally.empty(len(sessions)) for p in PROTOCOLS}
    scorer = _baseline_scorer(name, values, split.train, index)
    tally_scorers(tallies, index, {name: scorer}, sessions, metrics_for(index.popularity, index.item_pos))
    return protocol_metrics(tallies, name)


def _mean(figures: dict) -> float:
    return sum(f["hr@20"] + f["mrr@20"] for f in figures.values()) / (2 * len(figures))


def _rounded(figures: dict) -> dict:
    return {p: {m: round(float(v), 5) for m, v in f.items()} for p, f in figures.items()}


def tune_baselines(
    validations: dict[str, Split],
    grids: dict = GRIDS,
    count: int = 60,
    progress: Callable[[str], None] = print,
) -> dict:
    """Each baseline's setting with the best mean objective over the validation splits.

    The same objective and splits as the served ranking's tuning; session-rec's
    defaults are always among the candidates. Returns per baseline the
    candidates with their figures and the choice.
    """
    prepared = {}
    for name, split in validations.items():
        prepared[name] = (split, SessionIndex(split.train, sample=2**62), test_sessions(split.test))
    out = {}
    for baseline, grid in grids.items():
        candidates = [DEFAULTS[baseline]] + [d for d in draws(grid, count) if d != DEFAULTS[baseline]]
        results = []
        for values in candidates:
            started = time.monotonic()
            figures = {
                name: _rounded(baseline_figures(split, index, sessions, baseline, values))
                for name, (split, index, sessions) in prepared.items()
            }
            scores = {name: round(_mean(f), 5) for name, f in figures.items()}
            mean = round(sum(scores.values()) / len(scores), 5)
            results.append({"values": values, "objective": scores, "mean": mean, "figures": figures})
            progress(f"  {baseline} {values}  {scores}  mean {mean:.4f}  ({time.monotonic() - started:.1f}s)")
        best = max(results, key=lambda r: r["mean"])
        out[baseline] = {"grid": grid, "results": results, "chosen": best}
    return out
