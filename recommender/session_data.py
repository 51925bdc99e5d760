"""Click sessions for offline evaluation: read, prepare and split by time.

Every evaluation works on ``session_id, item_id, time`` (unix seconds) and
splits by time: test sessions are those that end in the last ``test_days``,
training is everything that ended before; a validation split for tuning is
cut the same way from the end of the training period, so parameters are
never chosen on the test sessions. Preparation follows session-rec: items
clicked fewer than ``min_item_support`` times and one-click sessions are
dropped, and test clicks on items never seen in training are removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

COLUMNS = ["session_id", "item_id", "time"]


class DataError(ValueError):
    """A data file that cannot be read as sessions; the message says why."""


@dataclass
class Split:
    train: pd.DataFrame
    test: pd.DataFrame

    def describe(self) -> dict:
        return {
            "train_clicks": len(self.train),
            "train_sessions": int(self.train["session_id"].nunique()),
            "test_clicks": len(self.test),
            "test_sessions": int(self.test["session_id"].nunique()),
            "items": int(self.train["item_id"].nunique()),
        }


def read_session_file(path) -> pd.DataFrame:
    """A session-rec file: tab- or comma-separated ``SessionId ItemId Time`` with a header."""
    try:
        frame = pd.read_csv(path, sep=None, engine="python", dtype={"SessionId": "str", "ItemId": "str"})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: cannot be read as a table ({exc})") from None
    missing = {"SessionId", "ItemId", "Time"} - set(frame.columns)
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(sorted(missing))}; expected SessionId ItemId Time")
    times = pd.to_numeric(frame["Time"], errors="coerce")
    if times.isna().any():
        raise DataError(f"{path}: Time must be unix seconds (row {int(times.isna().to_numpy().argmax()) + 2})")
    out = pd.DataFrame({"session_id": frame["SessionId"], "item_id": frame["ItemId"], "time": times.astype("float64")})
    return out.dropna(subset=["session_id", "item_id"]).reset_index(drop=True)


def instacart_sessions(path) -> pd.DataFrame:
    """Instacart orders as sessions: each order's products in add-to-cart order.

    Instacart publishes no dates, only each user's days between orders, so
    every user's orders are placed on one timeline that ends on the same day
    (the day of their last order): a time split then holds out every user's
    most recent orders, and recency means what it means on a shop's clock.
    """
    frame = pd.read_csv(path)
    frame = frame.dropna(subset=["product_id", "add_to_cart_order"])
    orders = frame.drop_duplicates("order_id")[["order_id", "user_id", "order_number", "days_since_prior_order"]]
    orders = orders.sort_values(["user_id", "order_number"])
    orders["day"] = orders["days_since_prior_order"].fillna(0.0).groupby(orders["user_id"]).cumsum()
    orders["day"] -= orders.groupby("user_id")["day"].transform("max")
    frame = frame.merge(orders[["order_id", "day"]], on="order_id")
    end = 1_500_000_000.0
    time = end + frame["day"] * 86400.0 + frame["order_hour_of_day"].astype(float) * 3600.0 + frame["add_to_cart_order"]
    return pd.DataFrame(
        {
            "session_id": frame["order_id"].astype(str),
            "item_id": frame["product_id"].astype(int).astype(str),
            "time": time,
        }
    )


def prepare(sessions: pd.DataFrame, min_item_support: int = 5) -> pd.DataFrame:
    """Drop rare items and then one-click sessions (session-rec's preparation)."""
    frame = sessions[COLUMNS]
    counts = frame["item_id"].value_counts()
    frame = frame[frame["item_id"].map(counts) >= min_item_support]
    sizes = frame.groupby("session_id")["item_id"].transform("size")
    return frame[sizes >= 2].sort_values(["session_id", "time"], kind="stable").reset_index(drop=True)


def time_split(sessions: pd.DataFrame, test_days: float) -> Split:
    """Sessions ending in the last ``test_days`` are the test; the rest, training."""
    if sessions.empty:
        raise DataError("no sessions with two or more clicks to evaluate on")
    ends = sessions.groupby("session_id")["time"].max()
    cut = float(ends.max()) - test_days * 86400.0
    test_ids = set(ends.index[ends > cut])
    train = sessions[~sessions["session_id"].isin(test_ids)]
    test = sessions[sessions["session_id"].isin(test_ids)]
    test = test[test["item_id"].isin(set(train["item_id"]))]
    test = test[test.groupby("session_id")["item_id"].transform("size") >= 2]
    if train.empty or test.empty:
        raise DataError(f"a split at {test_days:g} day(s) leaves no training or no test sessions")
    return Split(train.reset_index(drop=True), test.reset_index(drop=True))


def subsample(split: Split, sessions: int) -> Split:
    """The first ``sessions`` test sessions (by id order, so runs repeat), training whole."""
    if not sessions:
        return split
    keep = pd.Series(split.test["session_id"].unique()).sort_values(kind="stable").head(sessions)
    return Split(split.train, split.test[split.test["session_id"].isin(set(keep))])
