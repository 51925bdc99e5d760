"""Session-based nearest neighbours: plain SKNN and the STAN family.

A visitor's current session is compared with past sessions; items of the most
similar sessions are recommended. Nothing is trained but an index of past
sessions, so a session that started a second ago is scored at request time.

``SessionIndex`` keeps, per past session, its items in order and its last
time, and per item the sessions it appears in (most recent first, capped at
the index's ``sample``); a request reads at most ``StanParams.sample`` of each
item's sessions, so a very popular item cannot make a request slow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class StanParams:
    """Weights of STAN (Garg et al., SIGIR 2019).

    ``position`` decays older items of the current session, ``recency`` (in
    seconds) decays neighbour sessions by age, ``distance`` decays a
    neighbour's items by how far they are from the item shared with the
    current session. ``k`` neighbours among each current item's ``sample``
    most recent sessions.
    """

    k: int = 500
    sample: int = 2500
    position: float = 2.0
    recency: float = 7 * 24 * 3600.0
    distance: float = 2.0


class SessionIndex:
    """Past sessions as integer arrays, ready for neighbour search."""

    def __init__(self, sessions: pd.DataFrame, sample: int = 5000):
        """``sessions`` has ``session_id, item_id, time``: one row per event, any order."""
        frame = sessions.sort_values(["session_id", "time"], kind="stable")
        self.items = np.array(sorted(frame["item_id"].unique()), dtype=object)
        self.item_pos = {item: i for i, item in enumerate(self.items)}
        codes = frame["item_id"].map(self.item_pos).to_numpy(np.int64)
        starts = np.flatnonzero(np.r_[True, frame["session_id"].to_numpy()[1:] != frame["session_id"].to_numpy()[:-1]])
        bounds = np.r_[starts, len(frame)]
        self.session_items = [codes[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        self.session_time = frame["time"].to_numpy(np.float64)[bounds[1:] - 1] if len(frame) else np.zeros(0)
        self.session_sets = [np.unique(s) for s in self.session_items]
        self.item_sessions = _item_sessions(self.session_sets, self.session_time, len(self.items), sample)
        # Flat arrays so a request gathers its neighbours' items without a Python loop.
        self.flat = codes
        self.starts = bounds[:-1]
        self.lengths = np.diff(bounds)
        self.set_sizes = np.array([len(s) for s in self.session_sets], dtype=np.float64)
        sizes = self.set_sizes.astype(np.int64)
        self.flat_sets = np.concatenate(self.session_sets) if sizes.sum() else np.zeros(0, np.int64)
        self.set_starts = np.cumsum(sizes) - sizes
        self.popularity = np.bincount(codes, minlength=len(self.items)).astype(np.float64)
        # session-rec's idf: log(sessions / clicks on the item).
        self.idf = np.log(max(len(self.session_items), 1) / np.maximum(self.popularity, 1.0))

    @property
    def n_sessions(self) -> int:
        return len(self.session_items)

    def encode(self, items: list) -> np.ndarray:
        """Known items of a session as codes, unknown ones dropped."""
        return np.array([self.item_pos[i] for i in items if i in self.item_pos], dtype=np.int64)


def _item_sessions(session_sets: list, times: np.ndarray, n_items: int, sample: int) -> list[np.ndarray]:
    pairs_item = np.concatenate(session_sets) if session_sets else np.zeros(0, np.int64)
    pairs_session = np.repeat(np.arange(len(session_sets)), [len(s) for s in session_sets])
    order = np.lexsort((-times[pairs_session], pairs_item)) if len(pairs_item) else np.zeros(0, np.int64)
    pairs_item, pairs_session = pairs_item[order], pairs_session[order]
    cuts = np.searchsorted(pairs_item, np.arange(n_items + 1))
    return [pairs_session[a:b][:sample] for a, b in zip(cuts[:-1], cuts[1:])]


def _candidates(
    index: SessionIndex, current: np.ndarray, weights: np.ndarray, sample: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sessions sharing an item with ``current`` (each item's ``sample`` most recent) and the weight they share."""
    sessions, overlap = [], []
    seen = set()
    for item, weight in zip(current[::-1], weights[::-1]):
        if item in seen:
            continue
        seen.add(item)
        found = index.item_sessions[item][:sample]
        sessions.append(found)
        overlap.append(np.full(len(found), weight))
    if not sessions:
        return np.zeros(0, np.int64), np.zeros(0)
    ids, inverse = np.unique(np.concatenate(sessions), return_inverse=True)
    return ids, np.bincount(inverse, weights=np.concatenate(overlap))


def _top(ids: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if len(ids) > k:
        keep = np.argpartition(-scores, k)[:k]
        return ids[keep], scores[keep]
    return ids, scores


def sknn_scores(index: SessionIndex, current: np.ndarray, k: int = 100, sample: int = 500) -> np.ndarray:
    """Plain session-kNN: cosine between item sets, neighbours' items summed.

    Parameters
    ----------
    index : SessionIndex
    current : ndarray
        Item codes of the current session, oldest first.
    k : int
        Neighbours kept.

    Returns
    -------
    ndarray
        A score per item code (zero for items no neighbour has).
    """
    unique = np.unique(current)
    ids, shared = _candidates(index, unique, np.ones(len(unique)), sample)
    scores = np.zeros(len(index.items))
    if not len(ids):
        return scores
    sims = shared / np.sqrt(index.set_sizes[ids] * len(unique))
    for session, sim in zip(*_top(ids, sims, k)):
        scores[index.session_sets[session]] += sim
    return scores


def stan_scores(index: SessionIndex, current: np.ndarray, now: float, params: StanParams = StanParams()) -> np.ndarray:
    """STAN: SKNN with the current session's order, neighbour recency and item distance.

    Parameters
    ----------
    index : SessionIndex
    current : ndarray
        Item codes of the current session, oldest first.
    now : float
        Time of the request (unix seconds); neighbours from the future are
        allowed (they decay symmetrically) so offline replay needs no care.
    params : StanParams

    Returns
    -------
    ndarray
        A score per item code; items of the current session keep their score
        (the caller decides whether to show them again).
    """
    scores = np.zeros(len(index.items))
    if not len(current):
        return scores
    n = len(current)
    position_weight = np.exp((np.arange(1, n + 1) - n) / params.position)
    ids, shared = _candidates(index, current, position_weight, params.sample)
    if not len(ids):
        return scores
    weight_of = dict(zip(current.tolist(), position_weight.tolist()))
    norm = np.sqrt(float(np.sum(np.square(list(weight_of.values())))))
    sims = shared / (norm * np.sqrt(index.set_sizes[ids]))
    # Ages relative to the freshest candidate: the same ranking as ages from
    # ``now``, without underflow when a shop's last sessions are months old.
    age = np.abs(now - index.session_time[ids])
    sims *= np.exp(-(age - age.min()) / params.recency)
    neighbours, neighbour_sims = _top(ids, sims, params.k)
    item, offset, owner = _gather(index, neighbours)
    # Distance to the last item a neighbour shares with the current session.
    starts = np.cumsum(index.lengths[neighbours]) - index.lengths[neighbours]
    anchor = np.maximum.reduceat(np.where(np.isin(item, current), offset, -1), starts)
    weight = neighbour_sims[owner] * np.exp(-np.abs(offset - anchor[owner]) / params.distance)
    # An item seen twice in one neighbour counts once, at its nearest position.
    order = np.lexsort((-weight, item, owner))
    item, weight, owner = item[order], weight[order], owner[order]
    first = np.r_[True, (item[1:] != item[:-1]) | (owner[1:] != owner[:-1])]
    return np.bincount(item[first], weights=weight[first], minlength=len(index.items))


def recent_neighbours(index: SessionIndex, current: np.ndarray, sample: int) -> np.ndarray:
    """The ``sample`` most recent past sessions sharing an item with ``current`` (V-SKNN's candidates).

    Each item's sessions are kept most recent first, so the most recent of
    their union are among each item's first ``sample``: only those are read.
    """
    found = [index.item_sessions[c][:sample] for c in np.unique(current)]
    ids = np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
    if len(ids) > sample:
        ids = ids[np.argpartition(-index.session_time[ids], sample)[:sample]]
    return ids


def _item_sets(index: SessionIndex, sessions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct items of ``sessions`` back to back, with their owner (0..len-1)."""
    sizes = index.set_sizes[sessions].astype(np.int64)
    owner = np.repeat(np.arange(len(sessions)), sizes)
    offset = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return index.flat_sets[np.repeat(index.set_starts[sessions], sizes) + offset], owner


def _best(sims: np.ndarray, k: int) -> np.ndarray:
    positive = np.flatnonzero(sims > 0)
    if len(positive) > k:
        positive = positive[np.argpartition(-sims[positive], k)[:k]]
    return positive


# session-rec's weightings (``vmsknn.py``), as published: of the current session's
# ``i``-th of ``n`` clicks, and of a neighbour's items ``step`` clicks back from the latest shared one.
POSITION_WEIGHTS = {
    "same": lambda i, n: np.ones(len(i)),
    "div": lambda i, n: i / n,
    "linear": lambda i, n: np.where(i <= 10, 1.0 - 0.1 * (n - i), 0.0),
    "log": lambda i, n: 1.0 / np.log10((n - i) + 1.7),
    "quadratic": lambda i, n: (i / n) ** 2,
}
STEP_WEIGHTS = {
    "same": lambda step: np.ones(len(step)),
    "div": lambda step: 1.0 / step,
    "linear": lambda step: np.where(step <= 100, 1.0 - 0.1 * step, 0.0),
    "log": lambda step: 1.0 / np.log10(step + 1.7),
    "quadratic": lambda step: 1.0 / (step * step),
}


@dataclass(frozen=True)
class KnnParams:
    """V-SKNN's and SKNN's parameters, named as in session-rec; the defaults are its defaults.

    ``weighting`` weighs the current session's clicks by position,
    ``weighting_score`` a neighbour's items by how many clicks back the latest
    shared item is, ``idf_weighting`` adds ``idf * idf_weighting`` times the
    score of rare items (0: off); ``similarity`` is SKNN's (cosine or jaccard).
    """

    k: int = 100
    sample: int = 500
    weighting: str = "div"
    weighting_score: str = "div"
    idf_weighting: float = 0.0
    similarity: str = "cosine"


def vsknn_scores(
    index: SessionIndex, current: np.ndarray, k: int = 100, sample: int = 500, params: KnnParams | None = None
) -> np.ndarray:
    """V-SKNN (Ludewig and Jannach 2018) as session-rec implements it.

    The current session's clicks weigh by position (``div``: ``i/n``; a
    repeated click keeps its latest), a candidate's similarity is the summed
    weight of the items it shares over the session's distinct items, and a
    neighbour's items score its similarity times the step weight (``div``:
    ``1/step``), ``step`` being how many clicks back the latest item it shares
    is, plus the idf bonus. ``k`` neighbours among the ``sample`` most recent
    sessions sharing any item. ``params``, when given, overrides ``k`` and ``sample``.
    """
    params = params or KnnParams(k=k, sample=sample)
    scores = np.zeros(len(index.items))
    ids = recent_neighbours(index, current, params.sample)
    if not len(ids):
        return scores
    n = len(current)
    position = np.zeros(len(index.items))
    last = np.full(len(index.items), -1)
    position[current] = POSITION_WEIGHTS[params.weighting](np.arange(1, n + 1, dtype=np.float64), float(n))
    last[current] = np.arange(n)
    items, owner = _item_sets(index, ids)
    sims = np.bincount(owner, weights=position[items], minlength=len(ids)) / len(np.unique(current))
    latest = np.full(len(ids), -1)
    np.maximum.at(latest, owner, last[items])
    steps = np.maximum(n - latest, 1).astype(np.float64)
    decay = np.where(latest >= 0, STEP_WEIGHTS[params.weighting_score](steps), 0.0)
    keep = _best(sims, params.k)
    weight = np.zeros(len(ids))
    weight[keep] = sims[keep] * decay[keep]
    contribution = weight[owner]
    if params.idf_weighting:
        contribution = contribution * (1.0 + params.idf_weighting * index.idf[items])
    return np.bincount(items, weights=contribution, minlength=len(index.items))


def sknn_recent_scores(
    index: SessionIndex, current: np.ndarray, k: int = 100, sample: int = 500, params: KnnParams | None = None
) -> np.ndarray:
    """SKNN as session-rec implements it: cosine (or jaccard) between item sets, ``k`` of the ``sample`` most recent."""
    params = params or KnnParams(k=k, sample=sample)
    scores = np.zeros(len(index.items))
    ids = recent_neighbours(index, current, params.sample)
    if not len(ids):
        return scores
    mine = np.zeros(len(index.items), bool)
    mine[current] = True
    items, owner = _item_sets(index, ids)
    shared = np.bincount(owner, weights=mine[items], minlength=len(ids))
    if params.similarity == "jaccard":
        sims = shared / (index.set_sizes[ids] + mine.sum() - shared)
    else:
        sims = shared / np.sqrt(index.set_sizes[ids] * mine.sum())
    keep = _best(sims, params.k)
    weight = np.zeros(len(ids))
    weight[keep] = sims[keep]
    return np.bincount(items, weights=weight[owner], minlength=len(index.items))


def _gather(index: SessionIndex, sessions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Items of ``sessions`` back to back, each with its position and owner (0..len-1)."""
    lengths = index.lengths[sessions]
    owner = np.repeat(np.arange(len(sessions)), lengths)
    offset = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return index.flat[np.repeat(index.starts[sessions], lengths) + offset], offset, owner


def top_items(scores: np.ndarray, n: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Codes of the ``n`` best-scored items, best first, zero scores left out."""
    scores = scores.copy()
    if exclude is not None and len(exclude):
        scores[exclude] = 0.0
    positive = np.flatnonzero(scores > 0)
    if len(positive) > n:
        positive = positive[np.argpartition(-scores[positive], n)[:n]]
    return positive[np.lexsort((positive, -scores[positive]))]
