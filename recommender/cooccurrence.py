"""Item-to-item co-occurrence in sessions, with time decay.

Two relations: items viewed in the same session ("also viewed") and items
bought in a session where another was viewed ("viewed this, bought that").
A session counts less the older it is (half-life), so a catalogue that
changes with the seasons is not stuck with last year's neighbours; scores are
cosine-normalised so a best-seller is not everyone's neighbour.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NEIGHBOR_COLUMNS = ["item_id", "neighbor_id", "relation", "score"]


def session_decay(times: pd.Series, now: float, half_life_days: float) -> pd.Series:
    """Weight of an event of age ``now - time`` (seconds): 1 now, 1/2 one half-life ago."""
    age_days = np.maximum(now - times.astype("float64"), 0.0) / 86400.0
    return np.power(0.5, age_days / half_life_days)


def _pairs(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    merged = left.merge(right, on="session_id", suffixes=("", "_other"))
    merged = merged[merged["item_id"] != merged["item_id_other"]]
    return merged.groupby(["item_id", "item_id_other"], sort=False)["weight"].sum().reset_index()


def cooccurrence(
    events: pd.DataFrame, now: float, half_life_days: float = 30.0, per_item: int = 50, max_session_items: int = 50
) -> pd.DataFrame:
    """Neighbours of each item by session co-occurrence.

    Parameters
    ----------
    events : DataFrame
        ``session_id, item_id, kind, time``: ``kind`` is ``"view"`` or
        ``"purchase"``, ``time`` unix seconds.
    now : float
        Reference time of the decay.
    half_life_days : float
        Age at which a session counts half.
    per_item : int
        Neighbours kept per item and relation.
    max_session_items : int
        Distinct items kept per session (its last ones), bounding the pair
        count of crawler-like sessions.

    Returns
    -------
    DataFrame
        ``item_id, neighbor_id, relation, score`` with relation
        ``also_viewed`` or ``bought_after_view``; best first per item.
    """
    if events.empty:
        return pd.DataFrame(columns=NEIGHBOR_COLUMNS)
    frame = events.sort_values("time").copy()
    frame["decay"] = session_decay(frame.groupby("session_id")["time"].transform("max"), now, half_life_days)
    frames = []
    for relation, left_kind, right_kind in (("also_viewed", "view", "view"), ("bought_after_view", "view", "purchase")):
        left = _distinct(frame[frame["kind"] == left_kind], max_session_items)
        right = _distinct(frame[frame["kind"] == right_kind], max_session_items)
        if left.empty or right.empty:
            continue
        pairs = _pairs(left, right.drop(columns="weight"))
        if pairs.empty:
            continue
        count_left = left.groupby("item_id")["weight"].sum()
        count_right = right.groupby("item_id")["weight"].sum()
        denominator = np.sqrt(pairs["item_id"].map(count_left) * pairs["item_id_other"].map(count_right))
        pairs["score"] = pairs["weight"] / denominator
        pairs["relation"] = relation
        frames.append(pairs.rename(columns={"item_id_other": "neighbor_id"}))
    if not frames:
        return pd.DataFrame(columns=NEIGHBOR_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["relation", "item_id", "score", "neighbor_id"], ascending=[True, True, False, True])
    return out.groupby(["relation", "item_id"], sort=False).head(per_item)[NEIGHBOR_COLUMNS].reset_index(drop=True)


def _distinct(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    last = frame.drop_duplicates(["session_id", "item_id"], keep="last")
    last = last.groupby("session_id", sort=False).tail(limit)
    return last[["session_id", "item_id"]].assign(weight=last["decay"].to_numpy())
