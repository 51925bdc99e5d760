"""One million real events for the recommendation benchmark.

YOOCHOOSE clicks become product views; Instacart order lines become a view
and a cart add per line and one order per basket. The two files hold about
400k such events, so they are repeated with fresh visitor ids (and a day's
shift per copy) until the total is reached.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from tests.support.datasets import find_data
from warehouse.queries.events import EVENT_COLUMNS


def _yoochoose(now: float) -> pd.DataFrame:
    frames = [
        pd.read_csv(find_data(f"yoochoose/yoochoose-clicks-100k_{part}.txt"), sep="\t", dtype={"ItemId": str})
        for part in ("train_full", "test")
    ]
    clicks = pd.concat(frames, ignore_index=True)
    shift = now - 3600 - clicks["Time"].max()
    return pd.DataFrame(
        {
            "anonymous_id": "yc-" + clicks["SessionId"].astype(str),
            "event": "Product Viewed",
            "product_id": "yc" + clicks["ItemId"],
            "time": clicks["Time"] + shift,
            "order_id": "",
        }
    )


def _instacart(now: float) -> pd.DataFrame:
    lines = pd.read_csv(find_data("instacart/df_sample.csv"))
    lines = lines.sort_values(["user_id", "order_number", "add_to_cart_order"])
    orders = lines.drop_duplicates("order_id")[["order_id", "user_id", "days_since_prior_order", "order_hour_of_day"]]
    orders = orders.assign(day=orders.groupby("user_id")["days_since_prior_order"].cumsum().fillna(0))
    orders["day"] = orders["day"] - orders.groupby("user_id")["day"].transform("max")
    orders["start"] = now - 86400 + orders["day"] * 86400 + orders["order_hour_of_day"] * 60
    lines = lines.merge(orders[["order_id", "start"]], on="order_id")
    at = lines["start"] + lines["add_to_cart_order"] * 30
    base = {"anonymous_id": "ic-" + lines["user_id"].astype(str), "product_id": "ic" + lines["product_id"].astype(str)}
    views = pd.DataFrame({**base, "event": "Product Viewed", "time": at, "order_id": ""})
    adds = pd.DataFrame({**base, "event": "Product Added", "time": at + 10, "order_id": ""})
    ordered = lines.groupby("order_id").agg(
        anonymous_id=("user_id", lambda s: "ic-" + str(s.iloc[0])),
        items=("product_id", lambda s: ["ic" + str(i) for i in s]),
        time=("start", "first"),
        count=("product_id", "size"),
    )
    done = pd.DataFrame(
        {
            "anonymous_id": ordered["anonymous_id"],
            "event": "Order Completed",
            "product_id": "",
            "time": ordered["time"] + ordered["count"] * 30 + 60,
            "order_id": ordered.index.astype(str),
            "item_ids": ordered["items"],
        }
    )
    return pd.concat([views, adds, done], ignore_index=True)


def million_events(site_id: str, total: int = 1_000_000, now: float | None = None) -> pd.DataFrame:
    """``total`` event rows (the warehouse's columns) built from the real data."""
    now = time.time() if now is None else now
    one = pd.concat([_yoochoose(now), _instacart(now)], ignore_index=True)
    copies, n = [], 0
    while n < total:
        k = len(copies)
        copy = one.assign(anonymous_id=one["anonymous_id"] + f"-{k}", time=one["time"] - k * 86400)
        copies.append(copy.head(total - n))
        n += len(copies[-1])
    frame = pd.concat(copies, ignore_index=True)
    return as_event_rows(frame, site_id)


def as_event_rows(frame: pd.DataFrame, site_id: str) -> pd.DataFrame:
    """Simplified events (visitor, event, product, time, order) as full rows."""
    n = len(frame)
    out = {}
    for column, empty in EVENT_COLUMNS.items():
        if isinstance(empty, list):
            out[column] = [[] for _ in range(n)]
        elif empty is None:
            out[column] = None
        else:
            out[column] = np.full(n, empty)
    out = pd.DataFrame(out)
    when = pd.to_datetime(frame["time"].to_numpy(), unit="s").astype("datetime64[s]")
    out["site_id"] = site_id
    out["message_id"] = [f"b{i}" for i in range(n)]
    out["type"] = "track"
    out["event"] = frame["event"].to_numpy()
    out["anonymous_id"] = frame["anonymous_id"].to_numpy()
    out["product_id"] = frame["product_id"].to_numpy()
    out["order_id"] = frame["order_id"].to_numpy()
    if "item_ids" in frame:
        items = frame["item_ids"].to_numpy()
        out["item_ids"] = [list(v) if isinstance(v, list) else [] for v in items]
        out["item_prices"] = [[1.0] * len(v) for v in out["item_ids"]]
        out["item_quantities"] = [[1] * len(v) for v in out["item_ids"]]
    for column in ("timestamp", "original_timestamp", "sent_at", "received_at"):
        out[column] = when
    out["score"] = np.nan
    for column, dtype in {
        "timestamp_ms": "uint16",
        "price": "float64",
        "quantity": "uint32",
        "revenue": "float64",
    }.items():
        out[column] = out[column].astype(dtype)
    out["is_bot"] = out["is_bot"].astype("uint8")
    return out
