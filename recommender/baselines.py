"""The baselines of session-based recommendation, as ``session-rec`` implements them.

Ludewig, Mauro, Latifi and Jannach (UMUAI 2021) compare algorithms with the
code of ``rn5l/session-rec``; these are its simple baselines with its default
parameters, so a figure for Basirat's served ranking is set beside the ones a
reader of that paper would expect:

- ``popularity``: the most clicked training items, the same list for everyone.
- ``ar``: association rules, every pair of clicks in a session counted both
  ways, 20 neighbours kept per item, recommended from the last click.
- ``sr``: sequential rules, ``a -> b`` weighted ``1/i`` for ``b`` clicked ``i``
  clicks after ``a`` (up to 10), 20 neighbours kept, from the last click.
- ``sknn``: session-kNN, cosine between item sets, the 500 most recent
  sessions sharing an item with the current one, 100 neighbours.
- ``vsknn``: V-SKNN, the same with the current session's clicks weighted by
  position (``i/n``, "div"), a neighbour's items decayed by how far back the
  shared click is (``1/step``), 100 of 500.

Every function takes the current session as item codes (oldest first) and
returns a score per item code; items of the session keep their scores
(``remind``), as the published code does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .ranking import encode_rules
from .sequential import pair_counts, sequential_rules
from .session_knn import KnnParams, SessionIndex, sknn_recent_scores, vsknn_scores

# session-rec's defaults, the starting point of ``basirat tune --baselines``.
DEFAULTS = {
    "ar": {"pruning": 20},
    "sr": {"steps": 10, "weighting": "div", "pruning": 20},
    "sknn": {"k": 100, "sample": 500, "similarity": "cosine"},
    "vsknn": {"k": 100, "sample": 500, "weighting": "div", "weighting_score": "div", "idf_weighting": 0.0},
}

# The ranges session-rec's optimisation configurations search (``conf/opt``), drawn from at random
# as its random search does; ``sample`` stops at 5,000, the endpoint's index cap per item.
GRIDS = {
    "ar": {"pruning": [0, 10, 20]},
    "sr": {
        "steps": [2, 3, 5, 10, 15, 20],
        "weighting": ["same", "div", "linear", "log", "quadratic"],
        "pruning": [0, 20],
    },
    "sknn": {"k": [50, 100, 500, 1000, 1500], "sample": [500, 1000, 2500, 5000], "similarity": ["cosine", "jaccard"]},
    "vsknn": {
        "k": [50, 100, 500, 1000, 1500],
        "sample": [500, 1000, 2500, 5000],
        "weighting": ["same", "div", "linear", "log", "quadratic"],
        "weighting_score": ["same", "div", "linear", "log", "quadratic"],
        "idf_weighting": [0.0, 1.0, 2.0, 5.0, 10.0],
    },
}

# ``basirat tune --data-dir DIR --sessions 400 --out docs/tuning.json`` chose these on the
# validation splits of YOOCHOOSE and Instacart (docs/tuning.json, "baselines").
TUNED = {
    "ar": {"pruning": 0},
    "sr": {"steps": 20, "weighting": "div", "pruning": 0},
    "sknn": {"k": 100, "sample": 2500, "similarity": "cosine"},
    "vsknn": {"k": 1500, "sample": 500, "weighting": "same", "weighting_score": "quadratic", "idf_weighting": 1.0},
}


@dataclass
class Baselines:
    """The trained baselines over one item coding (``index``)."""

    index: SessionIndex
    ar: dict
    sr: dict
    params: dict = field(default_factory=lambda: TUNED)

    @classmethod
    def train(cls, train: pd.DataFrame, params: dict | None = None) -> "Baselines":
        """Fit every baseline on ``train`` (``session_id, item_id, time``) with ``params`` (name -> settings)."""
        params = {**TUNED, **(params or {})}
        index = SessionIndex(train, sample=np.iinfo(np.int64).max)
        ar = pair_counts(train, per_item=params["ar"]["pruning"])
        sr = params["sr"]
        rules = sequential_rules(train, steps=sr["steps"], per_item=sr["pruning"], weighting=sr["weighting"])
        return cls(index, _as_dict(index, ar), _as_dict(index, rules), params)

    def popularity(self, current: np.ndarray) -> np.ndarray:
        return self.index.popularity

    def ar_scores(self, current: np.ndarray) -> np.ndarray:
        return self._from_last(self.ar, current)

    def sr_scores(self, current: np.ndarray) -> np.ndarray:
        return self._from_last(self.sr, current)

    def _from_last(self, rules: dict, current: np.ndarray) -> np.ndarray:
        scores = np.zeros(len(self.index.items))
        found = rules.get(int(current[-1])) if len(current) else None
        if found is not None:
            scores[found[0]] = found[1]
        return scores

    def sknn_scores(self, current: np.ndarray) -> np.ndarray:
        return sknn_recent_scores(self.index, current, params=KnnParams(**self.params["sknn"]))

    def vsknn_scores(self, current: np.ndarray) -> np.ndarray:
        return vsknn_scores(self.index, current, params=KnnParams(**self.params["vsknn"]))

    def scorers(self) -> dict:
        return {
            "popularity": self.popularity,
            "ar": self.ar_scores,
            "sr": self.sr_scores,
            "sknn": self.sknn_scores,
            "vsknn": self.vsknn_scores,
        }


def _as_dict(index: SessionIndex, rules: pd.DataFrame) -> dict:
    grouped: dict = {}
    for item, neighbor, score in zip(rules["item_id"], rules["neighbor_id"], rules["score"]):
        grouped.setdefault(item, []).append((neighbor, float(score)))
    return encode_rules(index, grouped)
