"""Association rules: "frequently bought together".

Baskets (orders, carts, or sessions) become a sparse one-hot frame; mlxtend's
FP-growth finds frequent item sets without apriori's candidate explosion
(apriori materialises every candidate combination and runs out of memory on a
catalogue of thousands of items); rules with one item on each side are what a
product page shows.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
from mlxtend.frequent_patterns import association_rules, fpgrowth
from scipy import sparse

RULE_COLUMNS = ["antecedent", "consequent", "support", "confidence", "lift"]


def basket_matrix(baskets: pd.DataFrame) -> pd.DataFrame:
    """One-hot baskets as a sparse boolean frame (rows baskets, columns items).

    Parameters
    ----------
    baskets : DataFrame
        Columns ``basket_id, item_id``; repeats are fine.

    Returns
    -------
    DataFrame
        Sparse boolean columns named by item id.
    """
    pairs = baskets[["basket_id", "item_id"]].drop_duplicates()
    rows, basket_ids = pd.factorize(pairs["basket_id"])
    cols, item_ids = pd.factorize(pairs["item_id"])
    matrix = sparse.csr_matrix((np.ones(len(pairs), dtype=bool), (rows, cols)), shape=(len(basket_ids), len(item_ids)))
    return pd.DataFrame.sparse.from_spmatrix(matrix, columns=[str(i) for i in item_ids])


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
        Only the most frequent items take part. FP-growth in mlxtend is
        pure Python and its cost grows with the frequent items; a rule about
        an item bought twice is better served by session co-occurrence.

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
    onehot = basket_matrix(baskets)
    support = max(min_count, 1) / len(onehot)
    itemsets = fpgrowth(onehot, min_support=support, use_colnames=True, max_len=2)
    if not (itemsets["itemsets"].map(len) == 2).any():
        return pd.DataFrame(columns=RULE_COLUMNS)
    kwargs = {"metric": "confidence", "min_threshold": min_confidence}
    if "num_itemsets" in inspect.signature(association_rules).parameters:
        kwargs["num_itemsets"] = len(onehot)
    rules = association_rules(itemsets, **kwargs)
    rules = rules[(rules["antecedents"].map(len) == 1) & (rules["consequents"].map(len) == 1)]
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
