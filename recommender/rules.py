"""Association rules: "frequently bought together".

Baskets (orders, carts, or sessions) become a sparse one-hot matrix. A
product page shows rules with one item on each side, which need only the
frequent pairs: one sparse product of the matrix with itself counts every
pair's baskets at once (the diagonal holds each item's), so the rules are
those FP-growth with itemsets of at most two items gives (mlxtend's
``fpgrowth`` and ``association_rules``, same supports, confidences and lifts)
at a fraction of its time, and without apriori's candidate explosion.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

RULE_COLUMNS = ["antecedent", "consequent", "support", "confidence", "lift"]


def basket_rules(
    baskets: pd.DataFrame,
    min_count: int = 2,
    min_confidence: float = 0.01,
    max_baskets: int | None = None,
    max_items: int = 2000,
) -> pd.DataFrame:
    """Item → item rules with support, confidence and lift.

    Parameters
    ----------
    baskets : DataFrame
        Columns ``basket_id, item_id``.
    min_count : int
        Baskets a pair must appear in; support is relative, so the threshold
        is given as a count that means the same for a small and a big store.
    min_confidence : float
        Rules below this confidence are dropped.
    max_baskets : int, optional
        Keep only baskets with at least two items (single-item baskets
        contribute no pair) and at most this many of them.
    max_items : int
        Only the most frequent items take part (the pair counts grow with
        their square); a rule about an item bought twice is better served
        by session co-occurrence.

    Returns
    -------
    DataFrame
        ``antecedent, consequent, support, confidence, lift``, best first per
        antecedent (by confidence, then lift).
    """
    baskets = baskets[["basket_id", "item_id"]].drop_duplicates()
    counts = baskets["item_id"].value_counts()
    frequent = counts[counts >= max(min_count, 1)].head(max_items).index
    baskets = baskets[baskets["item_id"].isin(frequent)]
    sizes = baskets.groupby("basket_id")["item_id"].transform("size")
    baskets = baskets[sizes >= 2]
    if max_baskets is not None:
        keep = baskets["basket_id"].drop_duplicates().tail(max_baskets)
        baskets = baskets[baskets["basket_id"].isin(keep)]
    if baskets.empty:
        return pd.DataFrame(columns=RULE_COLUMNS)
    rows, basket_ids = pd.factorize(baskets["basket_id"])
    cols, item_ids = pd.factorize(baskets["item_id"])
    onehot = sparse.csr_matrix(
        (np.ones(len(baskets), dtype=np.int64), (rows, cols)), shape=(len(basket_ids), len(item_ids))
    )
    return _pair_rules(
        (onehot.T @ onehot).tocoo(), np.asarray(item_ids, dtype=object), len(basket_ids), min_count, min_confidence
    )


def _pair_rules(together, item_ids: np.ndarray, baskets: int, min_count: int, min_confidence: float) -> pd.DataFrame:
    """Rules from pair counts (``together``: items x items, the diagonal each item's own count).

    The arithmetic is mlxtend's, so the figures are the same to the last bit:
    supports are counts over ``baskets``, a pair is frequent when its support
    reaches ``min_count / baskets``, confidence is ``(s_ab * n) / (s_a * n)``
    and lift that over the consequent's support.
    """
    n = float(baskets)
    own = together.diagonal() / n
    support = together.data / n
    keep = (together.row != together.col) & (support >= max(min_count, 1) / n)
    a, c, s_ac = together.row[keep], together.col[keep], support[keep]
    confidence = (s_ac * baskets) / (own[a] * baskets)
    lift = confidence / own[c]
    chosen = confidence >= min_confidence
    out = pd.DataFrame(
        {
            "antecedent": item_ids[a[chosen]].astype(str),
            "consequent": item_ids[c[chosen]].astype(str),
            "support": s_ac[chosen].astype("float64"),
            "confidence": confidence[chosen].astype("float64"),
            "lift": lift[chosen].astype("float64"),
        }
    )
    return out.sort_values(
        ["antecedent", "confidence", "lift", "consequent"], ascending=[True, False, False, True]
    ).reset_index(drop=True)


def top_rules(rules: pd.DataFrame, per_item: int = 50) -> pd.DataFrame:
    """The best ``per_item`` consequents of each antecedent (rules already sorted)."""
    return rules.groupby("antecedent", sort=False).head(per_item).reset_index(drop=True)
