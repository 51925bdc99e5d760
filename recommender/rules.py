"""Association rules: "frequently bought together".

Baskets (orders, carts, or sessions) become a sparse one-hot matrix. A
product page shows rules with one item on each side, which need only the
frequent pairs: one sparse product of the matrix with itself counts every
pair's baskets at once (the diagonal holds each item's): the frequent item
sets FP-growth would find with itemsets of at most two items, at a fraction of
its time and without apriori's candidate explosion. mlxtend's
``association_rules`` makes the rules from them.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
from mlxtend.frequent_patterns import association_rules
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

    The counts become the frequent item sets FP-growth with ``max_len=2``
    would find (a pair is frequent when it is in ``min_count`` baskets; its
    items then are too), and mlxtend's ``association_rules`` turns them into
    rules with its own arithmetic.
    """
    n = float(baskets)
    threshold = max(min_count, 1) / n
    upper = (together.row < together.col) & (together.data / n >= threshold)
    if not upper.any():
        return pd.DataFrame(columns=RULE_COLUMNS)
    a, c = together.row[upper], together.col[upper]
    in_pairs = np.unique(np.concatenate([a, c]))
    own = together.diagonal()
    names = item_ids.astype(str).tolist()  # plain str: mlxtend reads numpy scalars as integers
    itemsets = pd.DataFrame(
        {
            "support": np.concatenate([own[in_pairs] / n, together.data[upper] / n]),
            "itemsets": [frozenset((names[i],)) for i in in_pairs]
            + [frozenset((names[i], names[j])) for i, j in zip(a, c)],
        }
    )
    kwargs = {"metric": "confidence", "min_threshold": min_confidence}
    parameters = inspect.signature(association_rules).parameters
    if "num_itemsets" in parameters:
        kwargs["num_itemsets"] = baskets
    if "return_metrics" in parameters:
        kwargs["return_metrics"] = ["antecedent support", "consequent support", "support", "confidence", "lift"]
    rules = association_rules(itemsets, **kwargs)
    out = pd.DataFrame(
        {
            "antecedent": rules["antecedents"].map(lambda s: next(iter(s))),
            "consequent": rules["consequents"].map(lambda s: next(iter(s))),
            "support": rules["support"].astype("float64"),
            "confidence": rules["confidence"].astype("float64"),
            "lift": rules["lift"].astype("float64"),
        }
    )
    return out.sort_values(
        ["antecedent", "confidence", "lift", "consequent"], ascending=[True, False, False, True]
    ).reset_index(drop=True)


def top_rules(rules: pd.DataFrame, per_item: int = 50) -> pd.DataFrame:
    """The best ``per_item`` consequents of each antecedent (rules already sorted)."""
    return rules.groupby("antecedent", sort=False).head(per_item).reset_index(drop=True)
