"""How the endpoint scores a live session: STAN blended with V-SKNN and sequential rules.

STAN finds past sessions like the visitor's and is strong at "what else is in
sessions like this one"; V-SKNN weighs neighbours by the latest click they
share; sequential rules know what is clicked right *after* the last items,
which is what the next click usually is. Each is scaled to its best item and
added with its weight, so the blend is two parameters on top of STAN's own. ``basirat tune`` chooses these
on a validation split cut from the training period; ``SERVED`` is its choice,
and ``basirat evaluate`` scores exactly this function through ``serving``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .session_knn import KnnParams, StanParams, stan_scores, vsknn_scores


@dataclass(frozen=True)
class RankingParams:
    """What decides the served session ranking (besides the mined models).

    ``stan`` are STAN's weights and caps; ``last_items`` the clicks of the
    session that count; ``sequential`` the weight of the sequential rules
    relative to STAN (0 turns them off); ``sequential_items`` how many of the
    last clicks vote through their rules, the ``i``-th last with weight ``1/i``;
    ``vsknn`` the weight of V-SKNN's scores, ``knn`` V-SKNN's own settings;
    ``repeat_decay``: a seen item last clicked ``d`` clicks ago is returned to
    in proportion to ``d ** -repeat_decay``, or, with 0, as often as the
    site's visitors return that far back (``return_pattern``);
    ``discovery``: values (as for ``with_values``) that replace these where
    the visit's products are hidden (the list is for discovery), since what
    ranks a new product best need not be what ranks a return best.
    """

    stan: StanParams = field(
        default_factory=lambda: StanParams(k=100, sample=500, position=10.0, recency=1e9, distance=100.0)
    )
    last_items: int = 20
    sequential: float = 0.0
    sequential_items: int = 3
    vsknn: float = 0.5
    repeat_decay: float = 1.0
    knn: KnnParams = field(default_factory=KnnParams)
    discovery: tuple = ()  # (name, value) pairs

    def for_discovery(self) -> "RankingParams":
        """The parameters that rank when the visit's products are hidden."""
        return replace(self, discovery=()).with_values(dict(self.discovery)) if self.discovery else self

    def with_values(self, values: dict) -> "RankingParams":
        """A copy with ``values`` set; ``stan.NAME`` and ``knn.NAME`` keys set STAN's and V-SKNN's fields."""
        parts = {"stan": {}, "knn": {}}
        own = {}
        for key, value in values.items():
            part, _, name = key.partition(".")
            if key == "discovery":
                own[key] = tuple(sorted(dict(value).items()))
            elif name and part in parts:
                parts[part][name] = value
            else:
                own[key] = value
        return replace(self, stan=replace(self.stan, **parts["stan"]), knn=replace(self.knn, **parts["knn"]), **own)

    def describe(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k not in ("stan", "knn", "discovery")}
        out.update({"stan." + k: v for k, v in self.stan.__dict__.items()})
        out.update({"knn." + k: v for k, v in self.knn.__dict__.items()})
        out["discovery"] = dict(self.discovery)
        return out


# ``basirat tune --data-dir DIR --sessions 400`` chose these on YOOCHOOSE and Instacart validation
# splits (docs/tuning.json): V-SKNN with the settings tuned for the V-SKNN baseline at half STAN's
# weight, the sequential rules of the last click at a quarter, returns decaying 1/distance (the site's
# measured return distances, repeat_decay 0, scored lower: docs/tuning-measured-returns.json); for
# discovery lists V-SKNN at STAN's weight and STAN's position decay gentler.
SERVED = RankingParams().with_values(
    {
        "vsknn": 0.5,
        "sequential": 0.25,
        "sequential_items": 1,
        "stan.position": 2.0,
        "repeat_decay": 1.0,
        "knn.k": 1500,
        "knn.sample": 500,
        "knn.weighting": "same",
        "knn.weighting_score": "quadratic",
        "knn.idf_weighting": 1.0,
        "discovery": {"vsknn": 1.0, "stan.position": 10.0},
    }
)


def _scaled(scores: np.ndarray) -> np.ndarray:
    top = scores.max() if len(scores) else 0.0
    return scores / top if top > 0 else scores


def session_scores(index, sequential: dict, codes: np.ndarray, now: float, params: RankingParams) -> np.ndarray:
    """A score per item code of ``index`` for the session ``codes`` (oldest first).

    Parameters
    ----------
    index : SessionIndex
    sequential : dict
        Item code -> (neighbour codes, scores): the sequential rules, encoded
        with ``index`` (rules about items it lacks are dropped when encoding).
    codes : ndarray
        The session's item codes, oldest first, already cut to ``last_items``.
    now : float
        Time of the request (unix seconds).
    params : RankingParams

    Returns
    -------
    ndarray
        Scores; items of the session keep theirs (the caller decides whether
        to show them again).
    """
    scores = _scaled(stan_scores(index, codes, now, params.stan))
    if params.vsknn > 0:
        scores = scores + params.vsknn * _scaled(vsknn_scores(index, codes, params=params.knn))
    if params.sequential > 0 and sequential:
        rules = np.zeros(len(index.items))
        for distance, code in enumerate(codes[::-1][: params.sequential_items], start=1):
            found = sequential.get(int(code))
            if found is not None:
                rules[found[0]] += found[1] / distance
        scores = scores + params.sequential * _scaled(rules)
    return scores


def return_chances(params: RankingParams, measured: np.ndarray, longest: int = 50) -> np.ndarray:
    """Chance of returning ``d`` clicks back, d = 0 .. longest: the fixed decay, or the site's measured one."""
    if params.repeat_decay <= 0:
        return measured
    distance = np.arange(longest + 1, dtype=np.float64)
    distance[0] = 1.0
    return distance**-params.repeat_decay


def with_repeats(scores: np.ndarray, codes: np.ndarray, repeat_share: float, distances: np.ndarray) -> np.ndarray:
    """Scores that also rank the session's own items, by how visitors of the site go back.

    A mixture in the manner of RepeatNet (Ren et al., AAAI 2019): the next
    click returns to an item of the session with probability ``repeat_share``,
    to the item last clicked ``d`` clicks ago in proportion to ``distances[d]``
    (both measured on the site's sessions, ``return_pattern``); else it is a
    new item, in proportion to ``scores``. A shop whose visitors never go back
    (a grocery basket) ranks seen items last; one where a third of the clicks
    are returns, mostly to the last item (YOOCHOOSE), ranks that item first.
    """
    seen = np.unique(codes)
    explore = scores.copy()
    explore[seen] = 0.0
    total = explore.sum()
    out = explore * ((1.0 - repeat_share) / total) if total > 0 else explore
    back = np.minimum(len(codes) - np.arange(len(codes)), len(distances) - 1)  # 1 for the last click
    chance = np.zeros(len(scores))
    chance[codes] = distances[back]  # a repeated click keeps its latest distance
    out[seen] += repeat_share * chance[seen] / chance[seen].sum()
    return out


def return_pattern(index, longest: int = 50) -> tuple[float, np.ndarray]:
    """(repeat share, distances) of a site's sessions.

    The share of clicks after a session's first that return to an item
    already clicked in it, and how far back the returned-to item was last
    clicked: ``distances[d]`` for ``d`` = 1 .. ``longest`` (longer counted as
    ``longest``), add-one smoothed so an unseen distance keeps a small chance.
    """
    counts = np.ones(longest + 1)
    counts[0] = 0.0
    for items in index.session_items:
        last: dict = {}
        for position, item in enumerate(items.tolist()):
            if item in last:
                counts[min(position - last[item], longest)] += 1
            last[item] = position
    return repeat_share(index), counts / counts.sum()


def repeat_share(index) -> float:
    """Share of clicks after a session's first that return to an item already clicked in it."""
    positions = float(np.sum(index.lengths - 1)) if index.n_sessions else 0.0
    returns = float(np.sum(index.lengths - index.set_sizes)) if index.n_sessions else 0.0
    return returns / positions if positions else 0.0


def encode_rules(index, rules: dict) -> dict:
    """Item id -> [(neighbour id, score)] as code -> (codes, scores), both sides known to ``index``."""
    out = {}
    for item, pairs in rules.items():
        code = index.item_pos.get(item)
        if code is None:
            continue
        known = [(index.item_pos[n], s) for n, s in pairs if n in index.item_pos]
        if known:
            out[code] = (np.array([c for c, _ in known], np.int64), np.array([s for _, s in known], np.float64))
    return out
