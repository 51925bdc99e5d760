"""The dashboard's KPIs recomputed in pandas, to check the ClickHouse queries against."""

from __future__ import annotations

import json

import pandas as pd

from warehouse.queries import kpis


def prepare(rows: list[dict], people: dict[str, str] | None = None, timezone: str = "UTC") -> pd.DataFrame:
    """Events with their person: the identity map's (``people``: identity to person), else the raw id.

    Times are the wall-clock times of ``timezone``, so every date below is the site's; durations stay
    right where the zone's offset is fixed over the data (Asia/Tehran since 2022).
    """
    frame = pd.DataFrame(rows)
    frame = frame[frame["is_bot"] == 0].copy()
    frame["timestamp"] = frame["timestamp"].dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)
    raw = frame["user_id"].where(frame["user_id"] != "", frame["anonymous_id"])
    identity = ("user:" + frame["user_id"]).where(frame["user_id"] != "", "anon:" + frame["anonymous_id"])
    frame["person"] = identity.map(people or {}).fillna(raw)
    frame["date"] = frame["timestamp"].dt.date
    frame["order_key"] = frame["order_id"].where(frame["order_id"] != "", frame["message_id"])
    return frame


def in_range(frame, start, end, members=None):
    chosen = frame[(frame["date"] >= start) & (frame["date"] <= end)]
    return chosen if members is None else chosen[chosen["person"].isin(members)]


def visitors(frame):
    return frame.groupby("date").agg(visitors=("person", "nunique"), events=("person", "size")).reset_index()


def sessions(frame):
    starts = []
    for _, times in frame.sort_values("timestamp").groupby("person")["timestamp"]:
        gaps = times.diff().dt.total_seconds()
        starts.extend(times[(gaps.isna()) | (gaps > kpis.SESSION_GAP_SECONDS)].dt.date)
    return pd.Series(starts).value_counts().sort_index().rename_axis("date").reset_index(name="sessions")


def funnel_level(events: pd.DataFrame) -> int:
    starts = [None] * len(kpis.FUNNEL_STEPS)
    for row in events.sort_values("timestamp").itertuples():
        step = kpis.FUNNEL_STEPS.index(row.event)
        if step == 0:
            starts[0] = row.timestamp
        elif (
            starts[step - 1] is not None
            and (row.timestamp - starts[step - 1]).total_seconds() <= kpis.FUNNEL_WINDOW_SECONDS
        ):
            starts[step] = starts[step - 1]
    return max([i + 1 for i, s in enumerate(starts) if s is not None], default=0)


def funnel(frame):
    steps = frame[frame["event"].isin(kpis.FUNNEL_STEPS)]
    levels = steps.groupby("person").apply(funnel_level, include_groups=False)
    return [{"step": s, "people": int((levels >= i + 1).sum())} for i, s in enumerate(kpis.FUNNEL_STEPS)]


def revenue(frame):
    orders = frame[frame["event"] == "Order Completed"]
    out = orders.groupby("date").agg(orders=("order_key", "nunique"), revenue=("revenue", "sum")).reset_index()
    out["average_order_value"] = out["revenue"] / out["orders"]
    return out


def new_vs_returning(everything, frame):
    first = everything.groupby("person")["date"].min()
    days = frame[["date", "person"]].drop_duplicates()
    days = days.assign(new=days["date"] == days["person"].map(first))
    out = days.groupby("date").agg(new_visitors=("new", "sum"), returning_visitors=("new", lambda s: (~s).sum()))
    return out.reset_index()


def retention(everything, start, end, members=None):
    orders = everything[everything["event"] == "Order Completed"]
    if members is not None:
        orders = orders[orders["person"].isin(members)]
    month = orders["timestamp"].dt.to_period("M")
    orders = orders.assign(month=month, cohort=month.groupby(orders["person"]).transform("min"))
    orders = orders[(orders["cohort"] >= pd.Period(start, "M")) & (orders["cohort"] <= pd.Period(end, "M"))]
    pairs = orders[["person", "cohort", "month"]].drop_duplicates()
    pairs = pairs.assign(months_later=(pairs["month"] - pairs["cohort"]).apply(lambda d: d.n))
    out = pairs.groupby(["cohort", "months_later"]).size().reset_index(name="customers")
    out["cohort"] = out["cohort"].dt.start_time.dt.date
    return out


def repeat_rate(frame):
    counts = frame[frame["event"] == "Order Completed"].groupby("person")["order_key"].nunique()
    return {
        "buyers": len(counts),
        "repeat_buyers": int((counts >= 2).sum()),
        "rate": float((counts >= 2).mean()) if len(counts) else 0.0,
    }


def satisfaction(frame):
    answers = frame[(frame["event"] == "Feedback Submitted") & frame["score"].notna()]
    answers = answers.assign(month=answers["timestamp"].dt.to_period("M").dt.start_time.dt.date)
    return answers.groupby(["month", "score"]).size().reset_index(name="answers")


def recommendation_revenue(everything, start, end, members=None, window_days=7):
    """Ordered items clicked in a recommendation by the same visitor within the window before the order."""
    clicks = everything[everything["event"] == "Recommendation Clicked"]
    clicks = pd.DataFrame(
        {
            "anonymous_id": clicks["anonymous_id"],
            "item_id": clicks["properties"].map(lambda p: json.loads(p)["item_id"]),
            "click_time": clicks["timestamp"],
        }
    )
    orders = in_range(everything[everything["event"] == "Order Completed"], start, end, members)
    lines = [
        (o.message_id, o.anonymous_id, o.timestamp, o.date, item, price * max(quantity, 1))
        for o in orders.itertuples()
        for item, price, quantity in zip(o.item_ids, o.item_prices, o.item_quantities)
    ]
    items = pd.DataFrame(lines, columns=["order_key", "anonymous_id", "order_time", "date", "item_id", "revenue"])
    pairs = items.merge(clicks, on=["anonymous_id", "item_id"])
    lag = pairs["order_time"] - pairs["click_time"]
    pairs = pairs[(lag >= pd.Timedelta(0)) & (lag <= pd.Timedelta(days=window_days))]
    pairs = pairs.drop_duplicates(["order_key", "item_id"])
    out = pairs.groupby("date").agg(orders=("order_key", "nunique"), revenue=("revenue", "sum"))
    return out.reset_index()
