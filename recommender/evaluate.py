"""Offline evaluation of what the endpoint serves, beside the literature's baselines.

The served strategy is scored through ``serving.recommend`` itself, on models
built from the training sessions by the same functions the mining jobs run
(``recent_sessions``, ``cooccurrence``, ``sequential_rules``,
``context_popularity``, ``index.build_site``), with the served parameters,
caps, filters and fallbacks. Two protocols, side by side:

- *next item*: at every position of every test session the visitor's
  clicks so far are the session; a hit is the next click among the first 20,
  repeats included (a third of next clicks on YOOCHOOSE revisit an item).
- *discovery*: items already in the session are never listed, and only
  positions whose next click is new to the session count.

The served strategy is scored both with the session's items shown again (the
``home`` context) and hidden (the ``product`` context); the baselines rank
all items in the first protocol and drop the session's in the second. HR@20,
MRR@20, coverage@20 and popularity@20 follow Ludewig et al. (UMUAI 2021);
95% intervals come from a paired bootstrap over test sessions, the same
resampled sessions for every strategy, so a difference is judged on the
differences themselves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from .baselines import Baselines
from .cooccurrence import cooccurrence
from .index import SiteModels, build_site
from .mining import context_popularity, recent_sessions
from .ranking import SERVED, RankingParams
from .sequential import sequential_rules
from .serving import Request, recommend
from .session_data import Split
from .session_knn import top_items

CUTOFF = 20
PROTOCOLS = ("next_item", "discovery")
SHOWN, HIDDEN = "served (seen shown)", "served (seen hidden)"
SHIPPED = {"next_item": SHOWN, "discovery": HIDDEN}
BASELINES = ("popularity", "ar", "sr", "sknn", "vsknn")


def served_models(train: pd.DataFrame) -> SiteModels:
    """The models the mining jobs would write for a site whose clicks are ``train``, loaded as the endpoint does."""
    now = float(train["time"].max())
    clicks = train.assign(site_id="site", kind="view", anonymous_id=train["session_id"].astype(str), user_id="")
    sessions = recent_sessions(clicks).drop(columns="site_id")
    no_categories = pd.DataFrame({"site_id": pd.Series(dtype=str), "item_id": pd.Series(dtype=str), "category": ""})
    popularity = context_popularity(clicks, no_categories, now=now)
    frames = {
        "sessions": sessions,
        "cooccurrence": cooccurrence(clicks, now=now),
        "sequential": sequential_rules(train).assign(relation="followed_by"),
        "popularity": popularity[["context", "item_id", "score"]],
    }
    return build_site(frames, pd.DataFrame(), {})


def served_ranker(models: SiteModels, show_seen: bool, params: RankingParams = SERVED) -> Callable:
    """``rank(items, times) -> item ids``: the endpoint's answer after the clicks ``items``.

    Shown: the ``home`` context, a widget fed by the session. Hidden: the
    ``product`` context on the page of the last click.
    """

    def rank(items: list, times: np.ndarray) -> list:
        request = Request(
            context="home" if show_seen else "product",
            item_id="" if show_seen else items[-1],
            limit=CUTOFF,
            session=[(float(t), "view", i) for t, i in zip(times, items)],
            now=float(times[-1]),
            show_seen=show_seen,
            params=params,
        )
        return [item["itemId"] for item in recommend(models, request).items]

    return rank


@dataclass
class Tally:
    """Per test session: hits, reciprocal ranks and predictions; and what was listed."""

    hits: np.ndarray
    reciprocal: np.ndarray
    count: np.ndarray
    listed: set = field(default_factory=set)
    popularity: float = 0.0

    @classmethod
    def empty(cls, sessions: int) -> "Tally":
        return cls(np.zeros(sessions), np.zeros(sessions), np.zeros(sessions))

    def add(self, session: int, ranked: list, target, popularity: np.ndarray, item_pos: dict) -> None:
        codes = [item_pos[i] for i in ranked if i in item_pos]
        self.count[session] += 1
        self.listed.update(codes)
        if codes:
            self.popularity += float(popularity[codes].mean() / max(popularity.max(), 1.0))
        if target in ranked:
            self.hits[session] += 1
            self.reciprocal[session] += 1.0 / (ranked.index(target) + 1)


def test_sessions(test: pd.DataFrame) -> list[tuple[list, np.ndarray]]:
    test = test.sort_values(["session_id", "time"], kind="stable")
    return [(g["item_id"].tolist(), g["time"].to_numpy(np.float64)) for _, g in test.groupby("session_id", sort=True)]


def _tally_served(tallies: dict, served: SiteModels, params: RankingParams, sessions: list, metrics) -> dict:
    seconds = {}
    for name, show_seen in ((SHOWN, True), (HIDDEN, False)):
        rank = served_ranker(served, show_seen, params)
        started = time.monotonic()
        for s, (items, times) in enumerate(sessions):
            for p in range(1, len(items)):
                ranked = rank(items[:p], times[:p])
                metrics(tallies, name, s, items[:p], ranked, items[p])
        seconds[name] = time.monotonic() - started
    return seconds


def tally_scorers(tallies: dict, index, scorers: dict, sessions: list, metrics) -> dict:
    """Tally code-level scorers (the baselines) over ``sessions``: every item, and the session's dropped."""
    seconds = {}
    for name, scorer in scorers.items():
        started = time.monotonic()
        for s, (items, _times) in enumerate(sessions):
            codes = index.encode(items)
            for p in range(1, len(items)):
                scores = scorer(codes[:p])
                every = [index.items[c] for c in top_items(scores, CUTOFF)]
                new = [index.items[c] for c in top_items(scores, CUTOFF, exclude=codes[:p])]
                metrics(tallies, name, s, items[:p], (every, new), items[p])
        seconds[name] = time.monotonic() - started
    return seconds


def protocol_metrics(tallies: dict, name: str) -> dict:
    """HR@20 and MRR@20 of one strategy per protocol, without intervals (tuning needs only these)."""
    out = {}
    for protocol in PROTOCOLS:
        tally = tallies[protocol, name]
        count = max(tally.count.sum(), 1.0)
        out[protocol] = {"hr@20": tally.hits.sum() / count, "mrr@20": tally.reciprocal.sum() / count}
    return out


def metrics_for(popularity: np.ndarray, item_pos: dict) -> Callable:
    """The tally step both protocols share: next item always, discovery only when the target is new."""

    def metrics(tallies, name, s, prefix, ranked, target):
        every, new = ranked if isinstance(ranked, tuple) else (ranked, ranked)
        tallies["next_item", name].add(s, every, target, popularity, item_pos)
        if target not in prefix:
            tallies["discovery", name].add(s, new, target, popularity, item_pos)

    return metrics


def evaluate_split(
    split: Split,
    progress: Callable[[str], None] = print,
    params: RankingParams = SERVED,
    baselines: bool = True,
    rounds: int = 1000,
    served: SiteModels | None = None,
    baseline_params: dict | None = None,
) -> list[dict]:
    """Every strategy in both protocols on one split; a dict per (protocol, strategy).

    ``served`` may be given when ``split.train`` was already mined (tuning
    scores many parameter sets on one split).
    """
    progress(
        f"training on {len(split.train):,} clicks in {split.train['session_id'].nunique():,} sessions"
        f" ({split.train['item_id'].nunique():,} items)"
    )
    served = served if served is not None else served_models(split.train)
    trained = Baselines.train(split.train, baseline_params) if baselines else None
    reference = trained.index if trained else served.sessions
    popularity, item_pos = reference.popularity, reference.item_pos
    sessions = test_sessions(split.test)
    progress(f"testing on {len(sessions):,} sessions, {sum(len(i) - 1 for i, _ in sessions):,} positions")
    names = [SHOWN, HIDDEN] + (list(BASELINES) if baselines else [])
    tallies = {(p, n): Tally.empty(len(sessions)) for p in PROTOCOLS for n in names}
    metrics = metrics_for(popularity, item_pos)

    seconds = _tally_served(tallies, served, params, sessions, metrics)
    for name in (SHOWN, HIDDEN):
        progress(f"  {name:<22} {seconds[name]:.1f}s")
    if trained is not None:
        for name, spent in tally_scorers(tallies, trained.index, trained.scorers(), sessions, metrics).items():
            seconds[name] = spent
            progress(f"  {name:<22} {spent:.1f}s")
    rows = summarize(tallies, seconds, len(popularity), rounds)
    settings = {SHOWN: params.describe(), HIDDEN: params.describe()}
    if trained is not None:
        settings.update({name: trained.params.get(name, {}) for name in BASELINES})
    for row in rows:
        row["settings"] = settings.get(row["strategy"], {})
    return rows


def summarize(tallies: dict, seconds: dict, n_items: int, rounds: int = 1000, seed: int = 0) -> list[dict]:
    """Figures with paired bootstrap 95% intervals, and each baseline's difference to the shipped row."""
    any_tally = next(iter(tallies.values()))
    n = len(any_tally.count)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=rounds).astype(np.float64) if n else np.zeros((0, 0))
    rows = []
    for protocol in PROTOCOLS:
        resampled = {}
        for (p, name), tally in tallies.items():
            if p != protocol:
                continue
            count = max(tally.count.sum(), 1.0)
            denominators = np.maximum(weights @ tally.count, 1.0)
            resampled[name] = {
                "hr@20": weights @ tally.hits / denominators,
                "mrr@20": weights @ tally.reciprocal / denominators,
            }
            rows.append(
                {
                    "protocol": protocol,
                    "strategy": name,
                    "shipped": SHIPPED[protocol] == name,
                    "hr@20": tally.hits.sum() / count,
                    "mrr@20": tally.reciprocal.sum() / count,
                    "hr@20_ci": _interval(resampled[name]["hr@20"]),
                    "mrr@20_ci": _interval(resampled[name]["mrr@20"]),
                    "coverage@20": len(tally.listed) / max(n_items, 1),
                    "popularity@20": tally.popularity / count,
                    "predictions": int(tally.count.sum()),
                    "seconds": round(seconds.get(name, 0.0), 2),
                }
            )
        shipped = resampled[SHIPPED[protocol]]
        for row in rows:
            if row["protocol"] == protocol and not row["shipped"]:
                row["shipped_minus_this"] = {
                    m: _interval(shipped[m] - resampled[row["strategy"]][m]) for m in ("hr@20", "mrr@20")
                }
    return rows


def _interval(values: np.ndarray) -> list[float]:
    if not len(values):
        return [0.0, 0.0]
    low, high = np.percentile(values, [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


def next_item_metrics(
    recommend: Callable[[np.ndarray, float], np.ndarray],
    test: list[tuple[np.ndarray, np.ndarray]],
    popularity: np.ndarray,
) -> dict:
    """HR, MRR, coverage and popularity of a code-level ranker over every test position (next-item protocol)."""
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
