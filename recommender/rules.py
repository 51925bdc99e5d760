"""Association rules: "frequently bought together".

A product page shows rules with one item on each side, which need only
counts: the baskets, the baskets holding each product and those holding each
pair. The mining job keeps them in the warehouse, up to date with the folded
visits (``warehouse.queries.basket_counts``), and makes the rules from them
with ``pair_rules``; ``basket_rules`` counts a frame of baskets itself (one
sparse product of the one-hot matrix with itself counts every pair at once)
and gives the same rules. These are the rules FP-growth and mlxtend's
``association_rules`` give for item sets of at most two items.

Only baskets of two products or more count: a product bought alone says
nothing about what goes with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

RULE_COLUMNS = ["antecedent", "consequent", "support", "confidence", "lift"]


def min_pair_count(baskets: int) -> int:
    """Baskets a pair must be in to make a rule: 2, or one in 3,000 once a store has more than 6,000 baskets.

    A pair must recur in a share of baskets, not just twice: the rules stay
    meaningful and the pairs read stay few.
    """
    return max(2, baskets // 3000)


def frequent_items(items: pd.DataFrame, min_count: int, max_items: int) -> list[str]:
    """The ``max_items`` products in most baskets (ties by id) among those in ``min_count`` or more.

    ``items``: ``item_id, baskets``. Rules are made between these only: the
    pairs grow with their square, and a rule about a product bought a few
    times is better served by session co-occurrence.
    """
    kept = items[items["baskets"] >= min_count].sort_values(["baskets", "item_id"], ascending=[False, True])
    return kept["item_id"].head(max_items).tolist()


def pair_rules(
    items: pd.DataFrame, pairs: pd.DataFrame, baskets: int, min_count: int = 2, min_confidence: float = 0.01
) -> pd.DataFrame:
    """Item → item rules with support, confidence and lift, from counts.

    Parameters
    ----------
    items : DataFrame
        ``item_id, baskets``: the baskets holding each product.
    pairs : DataFrame
        ``item_id, neighbor_id, baskets``: the baskets holding both, each pair once.
    baskets : int
        The baskets counted.
    min_count : int
        Baskets a pair must be in; support is relative, so the threshold is
        given as a count that means the same for a small and a big store.
    min_confidence : float
        Rules below this confidence are dropped.

    Returns
    -------
    DataFrame
        ``antecedent, consequent, support, confidence, lift``, best first per
        antecedent (by confidence, then lift). The arithmetic is mlxtend's
        (supports first, then their ratios), so the figures are FP-growth's to
        the last bit.
    """
    pairs = pairs[pairs["baskets"] >= max(min_count, 1)]
    if pairs.empty:
        return pd.DataFrame(columns=RULE_COLUMNS)
    antecedent = pd.concat([pairs["item_id"], pairs["neighbor_id"]], ignore_index=True)
    consequent = pd.concat([pairs["neighbor_id"], pairs["item_id"]], ignore_index=True)
    own = items.set_index("item_id")["baskets"]
    n = float(baskets)
    s_ac = np.concatenate([pairs["baskets"].to_numpy(np.float64)] * 2) / n
    s_a = own.reindex(antecedent).to_numpy(np.float64) / n
    s_c = own.reindex(consequent).to_numpy(np.float64) / n
    confidence = s_ac * n / (s_a * n)
    out = pd.DataFrame(
        {
            "antecedent": antecedent.astype(str),
            "consequent": consequent.astype(str),
            "support": s_ac,
            "confidence": confidence,
            "lift": confidence / s_c,
        }
    )
    out = out[out["confidence"] >= min_confidence]
    return out.sort_values(
        ["antecedent", "confidence", "lift", "consequent"], ascending=[True, False, False, True]
    ).reset_index(drop=True)


def basket_rules(
    baskets: pd.DataFrame, min_count: int = 2, min_confidence: float = 0.01, max_items: int = 2000
) -> pd.DataFrame:
    """``pair_rules`` over a frame of baskets (``basket_id, item_id``), counted here.

    ``max_items``: only pairs of the most frequent products (``frequent_items``) are counted.
    """
    baskets = baskets[["basket_id", "item_id"]].drop_duplicates()
    baskets = baskets[baskets.groupby("basket_id")["item_id"].transform("size") >= 2]
    if baskets.empty:
        return pd.DataFrame(columns=RULE_COLUMNS)
    items = baskets["item_id"].value_counts().rename_axis("item_id").reset_index(name="baskets")
    kept = baskets[baskets["item_id"].isin(frequent_items(items, min_count, max_items))]
    rows, basket_ids = pd.factorize(kept["basket_id"])
    cols, item_ids = pd.factorize(kept["item_id"])
    ones = np.ones(len(kept), dtype=np.int64)
    onehot = sparse.csr_matrix((ones, (rows, cols)), shape=(len(basket_ids), len(item_ids)))
    together = (onehot.T @ onehot).tocoo()
    upper = together.row < together.col
    names = np.asarray(item_ids, dtype=object)
    a, c = names[together.row[upper]], names[together.col[upper]]
    pairs = pd.DataFrame({"item_id": a, "neighbor_id": c, "baskets": together.data[upper]})
    return pair_rules(items, pairs, baskets["basket_id"].nunique(), min_count, min_confidence)


def top_rules(rules: pd.DataFrame, per_item: int = 50) -> pd.DataFrame:
    """The best ``per_item`` consequents of each antecedent (rules already sorted)."""
    return rules.groupby("antecedent", sort=False).head(per_item).reset_index(drop=True)
