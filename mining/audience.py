"""Product audience: the people most likely to buy a given product next.

A person's score for product P adds up evidence, each piece fading with a
half-life so recent interest counts most:

- association: for every other product i they viewed, carted or bought, the
  confidence of the rule i → P (share of people with i who bought P, shrunk
  towards zero for rarely seen items), weighted by how strong the interaction was;
- direct interest: they viewed or carted P itself without buying it.

People who already bought P are left out: they are the rule's evidence, not its audience.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from warehouse.queries.audiences import person_item_interactions
from warehouse.queries.segments import site_as_of

KIND_WEIGHT = {"view": 1.0, "cart": 2.0, "order": 3.0}
DIRECT_WEIGHT = {"view": 1.0, "cart": 3.0}
SHRINK = 2.0
HALF_LIFE_DAYS = 30.0


def rule_confidence(interactions: pd.DataFrame, product_id: str) -> pd.Series:
    """Confidence of i → product for every other item i, shrunk: buyers_with_i / (people_with_i + SHRINK)."""
    buyers = set(
        interactions.loc[(interactions["item_id"] == product_id) & (interactions["kind"] == "order"), "person_id"]
    )
    others = interactions[interactions["item_id"] != product_id].drop_duplicates(["person_id", "item_id"])
    people = others.groupby("item_id")["person_id"].nunique()
    both = others[others["person_id"].isin(buyers)].groupby("item_id")["person_id"].nunique()
    return (both.reindex(people.index).fillna(0) / (people + SHRINK)).rename("confidence")


def product_audience(
    interactions: pd.DataFrame,
    product_id: str,
    as_of: pd.Timestamp,
    limit: int = 100,
    half_life_days: float = HALF_LIFE_DAYS,
) -> pd.DataFrame:
    """Rank people by their likelihood of buying ``product_id`` next.

    Parameters
    ----------
    interactions : DataFrame
        ``person_id, item_id, kind, last_at`` (kind in view, cart, order).
    product_id : str
        The product whose audience is wanted.
    as_of : Timestamp
        The time against which interactions age.

    Returns
    -------
    DataFrame
        ``person_id, score, because_of, last_interaction``, best first;
        ``because_of`` is the product that contributed most.
    """
    frame = interactions.copy()
    decay = np.power(0.5, ((as_of - frame["last_at"]) / pd.Timedelta(days=1)).clip(lower=0) / half_life_days)
    confidence = rule_confidence(frame, product_id)
    is_product = frame["item_id"] == product_id
    frame["evidence"] = (
        np.where(
            is_product,
            frame["kind"].map(DIRECT_WEIGHT).astype("float64").fillna(0.0),
            # astype: mapping through an empty Series would keep the ids' string dtype.
            frame["item_id"].map(confidence).astype("float64").fillna(0.0)
            * frame["kind"].map(KIND_WEIGHT).astype("float64").fillna(0.0),
        )
        * decay
    )
    buyers = frame.loc[is_product & (frame["kind"] == "order"), "person_id"]
    frame = frame[~frame["person_id"].isin(buyers) & (frame["evidence"] > 0)]
    if frame.empty:
        return pd.DataFrame({"person_id": [], "score": [], "because_of": [], "last_interaction": []})
    best = frame.sort_values(["evidence", "item_id"], ascending=[False, True]).drop_duplicates("person_id")
    out = frame.groupby("person_id").agg(score=("evidence", "sum"), last_interaction=("last_at", "max"))
    out["because_of"] = best.set_index("person_id")["item_id"].reindex(out.index)
    out = out.reset_index().sort_values(["score", "person_id"], ascending=[False, True]).head(limit)
    return out[["person_id", "score", "because_of", "last_interaction"]].reset_index(drop=True)


def site_audience(warehouse, site_id: str, product_id: str, limit: int = 100) -> pd.DataFrame:
    """Load a site's interactions and rank the audience of one product (what CLI and admin call)."""
    as_of = site_as_of(warehouse, site_id)
    if as_of is None:
        return product_audience(
            pd.DataFrame(columns=["person_id", "item_id", "kind", "last_at"]), product_id, pd.Timestamp.now(), limit
        )
    interactions = person_item_interactions(warehouse, site_id)
    interactions["last_at"] = pd.to_datetime(interactions["last_at"], utc=True).dt.tz_localize(None)
    return product_audience(interactions, product_id, pd.Timestamp(as_of), limit)
