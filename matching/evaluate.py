"""Pairwise quality of the matcher on the FEBRL data sets (shipped in ``matching/data/febrl``).

FEBRL records carry ``rec-N-org`` / ``rec-N-dup-k`` ids: records with one N are
one person. A pair counts as predicted when the two records end in one
cluster (what a user sees as one person), so chains count as the product
applies them. The link threshold is tuned on one set and reported on another.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from .decide import MatchSettings, clusters, decide, deterministic_pairs
from .linkage import LinkOptions, predict_pairs
from .standardise import standardise

FEBRL = Path(__file__).with_name("data") / "febrl"
SETS = {"febrl1": "dataset1.csv", "febrl2": "dataset2.csv"}
GRID = (-2.0, 0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0)


def load_febrl(name: str) -> pd.DataFrame:
    """A FEBRL set as customer records of one source whose ids are not verified (they are record numbers)."""
    raw = pd.read_csv(FEBRL / SETS[name], dtype=str, skipinitialspace=True, keep_default_na=False)
    raw.columns = [c.strip() for c in raw.columns]
    address = raw["street_number"] + " " + raw["address_1"] + " " + raw["address_2"]
    records = pd.DataFrame(
        {
            "uid": raw["rec_id"].str.strip(),
            "source": name,
            "source_id": raw["rec_id"].str.strip(),
            "verified": False,
            "first_name": raw["given_name"],
            "last_name": raw["surname"],
            "address": address,
            "city": raw["suburb"],
            "postcode": raw["postcode"],
            "birth_date": raw["date_of_birth"],
        }
    )
    return standardise(records)


def true_pairs(uids: pd.Series) -> int:
    sizes = uids.str.extract(r"rec-(\d+)")[0].value_counts()
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise(uids: pd.Series, decided: pd.DataFrame) -> dict:
    """Precision, recall and F1 over the pairs inside predicted clusters."""
    cluster = clusters(uids, decided)
    person = uids.str.extract(r"rec-(\d+)")[0].to_numpy()
    frame = pd.DataFrame({"cluster": cluster.to_numpy(), "person": person})
    sizes = frame.groupby("cluster").size()
    both = frame.groupby(["cluster", "person"]).size()
    predicted = int((sizes * (sizes - 1) // 2).sum())
    correct = int((both * (both - 1) // 2).sum())
    truth = true_pairs(uids)
    precision = correct / predicted if predicted else 1.0
    recall = correct / truth if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"pairs": predicted, "precision": precision, "recall": recall, "f1": f1}


def _no_verdicts() -> pd.DataFrame:
    return pd.DataFrame(columns=["a", "b", "verdict"])


def shipped(records: pd.DataFrame, settings: MatchSettings, options: LinkOptions, scored=None) -> pd.DataFrame:
    scored = scored if scored is not None else predict_pairs(records, options, floor=min(GRID))
    return decide(records, deterministic_pairs(records), scored, _no_verdicts(), settings)


def deterministic_only(records: pd.DataFrame) -> pd.DataFrame:
    pairs = deterministic_pairs(records)
    empty = pd.DataFrame(columns=["a", "b", "weight", "probability", "agree", "close", "differ"])
    return decide(records, pairs, empty, _no_verdicts(), MatchSettings())


def library_defaults(records: pd.DataFrame, options: LinkOptions, weight: float | None = None, scored=None):
    """Splink's ready-made comparisons and training recipe; its customary 0.5 probability cut, or ``weight``."""
    if scored is None:
        scored = predict_pairs(records, options, floor=-50, library_defaults=True)
    cut = scored["probability"] >= 0.5 if weight is None else scored["weight"] >= weight
    linked = scored[cut].copy()
    linked["decision"] = "link"
    return linked


def tune_library(records: pd.DataFrame, options: LinkOptions, precision: float = 0.995) -> float:
    """The same tuning for Splink's defaults: best F1 at ``precision`` on ``GRID``, the highest weight on a tie."""
    scored = predict_pairs(records, options, floor=-50, library_defaults=True)
    best = (-1.0, GRID[-1])
    for weight in GRID:
        scores = pairwise(records["uid"], library_defaults(records, options, weight, scored))
        if scores["precision"] >= precision:
            best = max(best, (round(scores["f1"], 4), weight))
    return best[1]


def tune(records: pd.DataFrame, settings: MatchSettings, options: LinkOptions, precision: float = 0.995) -> float:
    """The link weight on ``GRID`` with the best F1 among those reaching ``precision``; the highest on a tie."""
    scored = predict_pairs(records, options, floor=min(GRID))
    best = (-1.0, GRID[-1])
    for weight in GRID:
        tried = replace(settings, link_weight=weight, review_weight=min(GRID))
        scores = pairwise(records["uid"], shipped(records, tried, options, scored))
        if scores["precision"] >= precision:
            best = max(best, (round(scores["f1"], 4), weight))
    return best[1]


def evaluate_matching(progress=print, tune_on: str = "febrl1", report_on: str = "febrl2") -> list[dict]:
    """Rows of (data set, method, pairs, precision, recall, F1, seconds): tuned on one set, reported on both.

    Splink's defaults are scored at their customary 0.5 probability and at a weight tuned as ours is."""
    settings, options = MatchSettings(), LinkOptions()
    data = {name: load_febrl(name) for name in (tune_on, report_on)}
    progress(f"tuning the link weight on {tune_on} ({len(data[tune_on])} records)")
    tuned = tune(data[tune_on], settings, options)
    tuned_library = tune_library(data[tune_on], options)
    progress(
        f"tuned link weight {tuned:g} (shipped default {settings.link_weight:g}); Splink's defaults: {tuned_library:g}"
    )
    rows = []
    for name, records in data.items():
        role = "tuning" if name == tune_on else "test"
        methods = {
            "basirat (shipped)": lambda r: shipped(r, settings, options),
            f"basirat (tuned {tuned:g})": lambda r: shipped(r, replace(settings, link_weight=tuned), options),
            "splink defaults": lambda r: library_defaults(r, options),
            f"splink defaults (tuned {tuned_library:g})": lambda r: library_defaults(r, options, tuned_library),
            "deterministic only": deterministic_only,
        }
        for method, run in methods.items():
            started = time.perf_counter()
            decided = run(records)
            seconds = time.perf_counter() - started
            scores = pairwise(records["uid"], decided)
            rows.append({"data": f"{name} ({role})", "method": method, **scores, "seconds": round(seconds, 2)})
            progress(f"{name} {method}: {seconds:.1f}s")
    return rows


def meets_goal(rows: list[dict], precision: float = 0.99, recall: float = 0.95) -> bool:
    test = [r for r in rows if "(test)" in r["data"] and r["method"] == "basirat (shipped)"]
    return bool(test) and all(r["precision"] >= precision and r["recall"] >= recall for r in test)


__all__ = ["evaluate_matching", "load_febrl", "meets_goal", "pairwise"]
