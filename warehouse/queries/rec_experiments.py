"""A/B tests of recommendation strategies: the experiment of each site, the arm of each answer, results per arm."""

from __future__ import annotations

import time

import pandas as pd

from warehouse.engine.connection import Warehouse

from .recommendations import _ATTRIBUTED, _FEEDBACK


def set_experiment(warehouse: Warehouse, site_id: str, name: str, arms: list[str], active: bool) -> None:
    """Start (or stop, ``active`` false) the site's experiment; the newest row wins."""
    now = pd.Timestamp.now("UTC").floor("s").tz_localize(None)
    frame = pd.DataFrame(
        {"site_id": [site_id], "name": [name], "arms": [list(arms)], "started_at": [now], "active": [int(active)]}
    )
    frame["version"] = pd.Series([time.time_ns()], dtype="uint64")
    frame["active"] = frame["active"].astype("uint8")
    frame["started_at"] = frame["started_at"].astype("datetime64[s]")
    warehouse.insert("rec_experiments", frame)


def experiment(warehouse: Warehouse, site_id: str) -> dict | None:
    """The site's newest experiment row (active or stopped), or None."""
    rows = warehouse.query(
        """
        SELECT argMax(name, version) AS name, argMax(arms, version) AS arms,
               argMax(started_at, version) AS started_at, argMax(active, version) AS active
        FROM rec_experiments WHERE site_id = {site:String} GROUP BY site_id
        """,
        {"site": site_id},
    )
    return rows[0] if rows else None


def active_experiments(warehouse: Warehouse) -> dict[str, tuple[str, tuple]]:
    """site -> (experiment name, arms) for every site running one."""
    rows = warehouse.query(
        """
        SELECT site_id, argMax(name, version) AS name, argMax(arms, version) AS arms,
               argMax(active, version) AS active
        FROM rec_experiments GROUP BY site_id
        """
    )
    return {r["site_id"]: (r["name"], tuple(r["arms"])) for r in rows if int(r["active"]) and r["arms"]}


def write_arms(warehouse: Warehouse, rows: list[dict]) -> int:
    """``site_id, recommendation_id, served_at (unix), experiment, arm`` per answer served in an experiment."""
    if not rows:
        return 0
    frame = pd.DataFrame(rows)[["site_id", "recommendation_id", "served_at", "experiment", "arm"]]
    frame["served_at"] = pd.to_datetime(frame["served_at"], unit="s").astype("datetime64[s]")
    return warehouse.insert("rec_served_arms", frame)


def arm_results(warehouse: Warehouse, site_id: str, name: str, days: int = 90, window_days: int = 7) -> list[dict]:
    """Per arm: answers, impressions, clicks, attributed orders and revenue (with its sum of squares per answer)."""
    sql = f"""
    SELECT arm, count() AS answers, sum(n_shown) AS impressions, sum(n_clicks) AS clicks,
           sum(n_orders) AS orders, sum(n_revenue) AS revenue, sum(n_revenue * n_revenue) AS revenue_sq
    FROM (
        SELECT recommendation_id, arm, shown AS n_shown, clicks AS n_clicks, revenue AS n_revenue, orders AS n_orders
        FROM (
            SELECT recommendation_id, any(arm) AS arm
            FROM rec_served_arms
            WHERE site_id = {{site_id:String}} AND experiment = {{name:String}}
              AND served_at >= now() - toIntervalDay({{days:UInt32}})
            GROUP BY recommendation_id
        ) AS served
        ANY LEFT JOIN (
            SELECT recommendation_id, sum(shown) AS shown, sum(clicks) AS clicks,
                   sum(revenue) AS revenue, sum(orders) AS orders
            FROM ({_FEEDBACK} UNION ALL {_ATTRIBUTED})
            GROUP BY recommendation_id
        ) AS feedback USING recommendation_id
    )
    GROUP BY arm
    ORDER BY arm
    """
    return warehouse.query(sql, {"site_id": site_id, "name": name, "days": days, "window": window_days * 86400})
