"""Offline evaluation results: written by ``basirat evaluate`` and the weekly job, read by the admin."""

from __future__ import annotations

import time

import pandas as pd

from warehouse.engine.connection import Warehouse


def write_results(warehouse: Warehouse, site_id: str, dataset: str, rows: list[dict], sizes: dict) -> int:
    """One run: a row per protocol and strategy (``rows`` as ``recommender.evaluate`` gives them)."""
    if not rows:
        return 0
    frame = pd.DataFrame(
        {
            "site_id": site_id,
            "run_id": time.time_ns(),
            "evaluated_at": pd.Timestamp.now("UTC").floor("s").tz_localize(None),
            "dataset": dataset,
            "protocol": [r["protocol"] for r in rows],
            "strategy": [r["strategy"] for r in rows],
            "shipped": [int(r["shipped"]) for r in rows],
            "hr": [float(r["hr@20"]) for r in rows],
            "hr_low": [float(r["hr@20_ci"][0]) for r in rows],
            "hr_high": [float(r["hr@20_ci"][1]) for r in rows],
            "mrr": [float(r["mrr@20"]) for r in rows],
            "mrr_low": [float(r["mrr@20_ci"][0]) for r in rows],
            "mrr_high": [float(r["mrr@20_ci"][1]) for r in rows],
            "coverage": [float(r["coverage@20"]) for r in rows],
            "popularity": [float(r["popularity@20"]) for r in rows],
            "predictions": [int(r["predictions"]) for r in rows],
            "train_sessions": int(sizes.get("train_sessions", 0)),
            "test_sessions": int(sizes.get("test_sessions", 0)),
            "seconds": [float(r["seconds"]) for r in rows],
        }
    )
    for column in ("run_id", "predictions", "train_sessions", "test_sessions"):
        frame[column] = frame[column].astype("uint64")
    frame["shipped"] = frame["shipped"].astype("uint8")
    frame["evaluated_at"] = frame["evaluated_at"].astype("datetime64[s]")
    return warehouse.insert("rec_offline_results", frame)


def latest_results(warehouse: Warehouse, site_id: str) -> list[dict]:
    """The newest run on the site's own sessions (``site_id``) or on reference data (``''``)."""
    return warehouse.query(
        """
        SELECT run_id, evaluated_at, dataset, protocol, strategy, shipped, hr, hr_low, hr_high, mrr, mrr_low,
               mrr_high, coverage, popularity, predictions, train_sessions, test_sessions
        FROM rec_offline_results
        WHERE site_id = {site:String}
          AND run_id = (SELECT max(run_id) FROM rec_offline_results WHERE site_id = {site:String})
        ORDER BY protocol DESC, shipped DESC, mrr DESC, strategy
        """,
        {"site": site_id},
    )


def site_clicks(warehouse: Warehouse, site_id: str, since_days: int = 180) -> pd.DataFrame:
    """``anonymous_id, item_id, time``: one site's product views and cart adds, what its sessions are cut from."""
    frame = warehouse.query_df(
        """
        SELECT anonymous_id, product_id AS item_id, toUInt32(timestamp) AS time
        FROM events
        WHERE site_id = {site:String} AND type = 'track'
          AND event IN ('Product Viewed', 'Product Clicked', 'Product Added')
          AND product_id != '' AND anonymous_id != '' AND is_bot = 0
          AND timestamp >= now() - toIntervalDay({days:UInt32})
        ORDER BY anonymous_id, time
        """,
        {"site": site_id, "days": since_days},
    )
    if frame.empty:
        return pd.DataFrame({"anonymous_id": pd.Series(dtype=str), "item_id": pd.Series(dtype=str), "time": []})
    return frame.astype({"anonymous_id": str, "item_id": str, "time": "int64"})
