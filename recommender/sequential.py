"""Sequential rules and session pair counts, as the session-based literature mines them.

Both count, within each session, how often one item is clicked with another;
they differ in direction. *Sequential rules* (SR, Kamehkhosh et al. 2017, as
``session-rec`` implements it) count ``a -> b`` when ``b`` follows ``a`` within
``steps`` clicks, weighted ``1/distance``; *association rules* (AR, the same
library's baseline) count every pair of clicks of a session, both ways. Each
keeps the ``per_item`` best neighbours of an item ("pruning"). Clicks are kept
with their repeats, as the published code does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from .session_knn import STEP_WEIGHTS

RULE_COLUMNS = ["item_id", "neighbor_id", "score"]


def _codes(sessions: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = sessions.sort_values(["session_id", "time"], kind="stable")
    codes, items = pd.factorize(frame["item_id"])
    owner = pd.factorize(frame["session_id"])[0]
    return codes.astype(np.int64), owner.astype(np.int64), np.asarray(items, dtype=object)


def _pruned(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, items: np.ndarray, per_item: int) -> pd.DataFrame:
    if not len(rows):
        return pd.DataFrame(columns=RULE_COLUMNS)
    n = len(items)
    matrix = sparse.coo_matrix((weights, (rows, cols)), shape=(n, n)).tocsr()
    matrix.sum_duplicates()
    coo = matrix.tocoo()
    frame = pd.DataFrame({"row": coo.row, "col": coo.col, "score": coo.data})
    frame = frame.sort_values(["row", "score", "col"], ascending=[True, False, True], kind="stable")
    if per_item > 0:  # 0: no pruning
        frame = frame.groupby("row", sort=False).head(per_item)
    return pd.DataFrame(
        {
            "item_id": items[frame["row"].to_numpy()],
            "neighbor_id": items[frame["col"].to_numpy()],
            "score": frame["score"],
        }
    ).reset_index(drop=True)


def sequential_rules(
    sessions: pd.DataFrame, steps: int = 10, per_item: int = 20, weighting: str = "div"
) -> pd.DataFrame:
    """``a -> b`` weighted ``1/i`` when ``b`` is clicked ``i <= steps`` clicks after ``a``.

    Parameters
    ----------
    sessions : DataFrame
        ``session_id, item_id, time``: one row per click.
    steps : int
        How far back a click may be and still count (session-rec's default 10).
    per_item : int
        Neighbours kept per item (session-rec's pruning, default 20; 0 keeps all).
    weighting : str
        How a pair ``i`` clicks apart is weighted (session-rec's ``weighting``:
        ``div`` 1/i, ``same``, ``linear``, ``log``, ``quadratic``).

    Returns
    -------
    DataFrame
        ``item_id, neighbor_id, score``, best first per item.
    """
    weight_of = STEP_WEIGHTS[weighting]
    codes, owner, items = _codes(sessions)
    rows, cols, weights = [], [], []
    for step in range(1, steps + 1):
        same = owner[step:] == owner[:-step]
        rows.append(codes[:-step][same])
        cols.append(codes[step:][same])
        weights.append(np.full(int(same.sum()), float(weight_of(np.array([float(step)]))[0])))
    return _pruned(np.concatenate(rows), np.concatenate(cols), np.concatenate(weights), items, per_item)


def pair_counts(sessions: pd.DataFrame, per_item: int = 20) -> pd.DataFrame:
    """Every pair of clicks of a session counted both ways (session-rec's AR).

    Parameters
    ----------
    sessions : DataFrame
        ``session_id, item_id, time``.
    per_item : int
        Neighbours kept per item (pruning, default 20; 0 keeps all).

    Returns
    -------
    DataFrame
        ``item_id, neighbor_id, score`` (a count), best first per item.
    """
    codes, owner, items = _codes(sessions)
    bounds = np.r_[0, np.flatnonzero(owner[1:] != owner[:-1]) + 1, len(owner)]
    rows, cols = [], []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b - a < 2:
            continue
        left, right = np.triu_indices(b - a, 1)
        rows.append(codes[a:b][left])
        cols.append(codes[a:b][right])
    if not rows:
        return pd.DataFrame(columns=RULE_COLUMNS)
    left, right = np.concatenate(rows), np.concatenate(cols)
    both_rows, both_cols = np.r_[left, right], np.r_[right, left]
    return _pruned(both_rows, both_cols, np.ones(len(both_rows)), items, per_item)
