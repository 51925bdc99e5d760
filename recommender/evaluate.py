"""Offline evaluation: the next-item protocol of session-based recommendation.

At every position of every test session the model sees the session so far
and ranks items; a hit is the next item among the top ``n``. HR@n counts hits,
MRR@n averages 1/rank, coverage@n is the share of training items that appear
in any list, popularity@n the mean popularity of listed items relative to the
most popular one (Ludewig et al., UMUAI 2021). Every strategy is trained on
the same training sessions in the same run, so the figures compare.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import pandas as pd

from .cooccurrence import cooccurrence
from .rules import basket_rules
from .session_knn import SessionIndex, StanParams, sknn_scores, stan_scores, top_items

CUTOFF = 20
SHIPPED = "stan"


def read_sessions(path) -> pd.DataFrame:
    """A tab-separated ``SessionId ItemId Time`` file as ``session_id, item_id, time``."""
    frame = pd.read_csv(path, sep="\t", dtype={"SessionId": "int64", "ItemId": "str", "Time": "float64"})
    return frame.rename(columns={"SessionId": "session_id", "ItemId": "item_id", "Time": "time"})


def next_item_metrics(
    recommend: Callable[[np.ndarray, float], np.ndarray],
    test: list[tuple[np.ndarray, np.ndarray]],
    popularity: np.ndarray,
) -> dict:
    """HR, MRR, coverage and popularity of ``recommend`` over every test position.

    Parameters
    ----------
    recommend : callable
        ``recommend(prefix_codes, now) -> codes``, at most ``CUTOFF`` of
        them, best first.
    test : list of (codes, times)
        Test sessions as item codes and unix times, oldest first.
    popularity : ndarray
        Training interaction count per item code.

    Returns
    -------
    dict
        ``hr@20, mrr@20, coverage@20, popularity@20, predictions``.
    """
    hits, reciprocal, listed, pop_sum, count = 0, 0.0, set(), 0.0, 0
    top = popularity.max() if len(popularity) else 1.0
    for codes, times in test:
        for position in range(1, len(codes)):
            ranked = recommend(codes[:position], float(times[position - 1]))[:CUTOFF]
            count += 1
            listed.update(ranked.tolist())
            if len(ranked):
                pop_sum += float(popularity[ranked].mean() / top)
            found = np.flatnonzero(ranked == codes[position])
            if len(found):
                hits += 1
                reciprocal += 1.0 / (found[0] + 1)
    return {
        "hr@20": hits / max(count, 1),
        "mrr@20": reciprocal / max(count, 1),
        "coverage@20": len(listed) / max(len(popularity), 1),
        "popularity@20": pop_sum / max(count, 1),
        "predictions": count,
    }


def _rules_table(index: SessionIndex, rules: pd.DataFrame) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    table = {}
    for antecedent, group in rules.groupby("antecedent", sort=False):
        codes = index.encode(group["consequent"].tolist())
        table[index.item_pos[antecedent]] = (codes, group["confidence"].to_numpy()[: len(codes)])
    return table


def _from_table(table: dict, n_items: int, weights: Callable[[int], np.ndarray]):
    def recommend(prefix: np.ndarray, _now: float) -> np.ndarray:
        scores = np.zeros(n_items)
        for item, weight in zip(prefix, weights(len(prefix))):
            found = table.get(int(item))
            if found is not None:
                scores[found[0]] += weight * found[1]
        return top_items(scores, CUTOFF)

    return recommend


def build_strategies(train: pd.DataFrame, progress: Callable[[str], None]) -> tuple[SessionIndex, dict]:
    """Train every strategy on ``train``; returns the index and name -> recommend."""
    progress(f"training on {len(train):,} clicks in {train['session_id'].nunique():,} sessions")
    index = SessionIndex(train, sample=2500)
    popular = top_items(index.popularity, CUTOFF)
    progress("association rules (mlxtend FP-growth)")
    sessions = train.rename(columns={"session_id": "basket_id"})
    rules = basket_rules(sessions, min_count=2, min_confidence=0.0, max_items=len(index.items))
    rule_table = _rules_table(index, rules.groupby("antecedent", sort=False).head(200))
    progress(f"  {len(rules):,} rules")
    progress("session co-occurrence with time decay")
    events = train.assign(kind="view")
    neighbors = cooccurrence(events, now=float(train["time"].max()), half_life_days=30.0, per_item=200)
    neighbors = neighbors.rename(columns={"item_id": "antecedent", "neighbor_id": "consequent", "score": "confidence"})
    cooc_table = _rules_table(index, neighbors)
    baseline_index = SessionIndex(train, sample=500)
    stan = StanParams()
    strategies = {
        "popularity": lambda prefix, now: popular,
        "ar": _from_table(rule_table, len(index.items), lambda n: np.r_[np.zeros(n - 1), 1.0]),
        "sknn": lambda prefix, now: top_items(sknn_scores(baseline_index, prefix, k=100), CUTOFF),
        "cooccurrence": _from_table(cooc_table, len(index.items), lambda n: np.exp((np.arange(1, n + 1) - n) / 1.0)),
        SHIPPED: lambda prefix, now: top_items(stan_scores(index, prefix, now, stan), CUTOFF),
    }
    return index, strategies


def evaluate(train: pd.DataFrame, test: pd.DataFrame, progress: Callable[[str], None] = print) -> list[dict]:
    """Every strategy side by side; one dict per strategy, shipped one marked."""
    index, strategies = build_strategies(train, progress)
    test = test[test["item_id"].isin(index.item_pos)].sort_values(["session_id", "time"], kind="stable")
    sessions = [
        (index.encode(group["item_id"].tolist()), group["time"].to_numpy())
        for _, group in test.groupby("session_id", sort=False)
        if len(group) > 1
    ]
    progress(f"testing on {len(sessions):,} sessions, {sum(len(c) - 1 for c, _ in sessions):,} predictions each")
    results = []
    for name, recommend in strategies.items():
        started = time.monotonic()
        metrics = next_item_metrics(recommend, sessions, index.popularity)
        seconds = time.monotonic() - started
        results.append({"strategy": name, **metrics, "seconds": round(seconds, 2), "shipped": name == SHIPPED})
        progress(f"  {name:<13} HR@20 {metrics['hr@20']:.3f}  MRR@20 {metrics['mrr@20']:.3f}  ({seconds:.1f}s)")
    return results
