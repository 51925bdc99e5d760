"""Migrations that rewrite tables, checked on a warehouse holding rows from before them.

``check(url)`` migrates a fresh warehouse up to the last migration before
the rewrites, stores events, webhook deliveries and served recommendations,
migrates the rest, and returns what a test compares: rows before and after
per table, the tables' sort keys and partitions, and what the views still
keep once the rewrite is done. Run as a module for chDB, which opens one
folder per process: ``python -m tests.warehouse.lifecycle_check chdb:///DIR``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys

import pandas as pd

from tests.support.factories import row
from warehouse import connect
from warehouse.engine.migrate import migrate
from warehouse.queries import kpis
from warehouse.queries.retention import current_ttl_days, set_ttl

BEFORE = 149  # the last migration before this room's rewrites
SITE = "lifecycle"
TABLES = (
    *("events", "event_ids", "visit_slots", "attribution_events", "webhook_deliveries", "rec_served"),
    *("rec_person_items", "rec_item_neighbors", "person_scores", "rec_sessions", "rec_popularity"),
)
MODELS = ("rec_person_items", "rec_item_neighbors", "person_scores", "rec_sessions", "rec_popularity")
KEEP_DAYS = 4000
GAP_DAY = dt.datetime(2025, 6, 2, 12, 0, 0)
# What the rewrites create and drop on their way.
TEMPORARY = [
    *("events_by_date", "visit_slots_by_minute", "webhook_deliveries_by_month"),
    *(t + "_by_run" for t in MODELS),
    *(t + "_retired" for t in ("events", "visit_slots", "webhook_deliveries", *MODELS)),
]
START = dt.datetime(2025, 1, 1, 10, 0, 0)


def history() -> list[dict]:
    """Two visitors over 14 months: a view every 10 days, plus one order; one visitor's two close events."""
    rows = []
    for n in range(42):
        when = START + dt.timedelta(days=10 * n, minutes=n)
        rows.append(row(SITE, when, anonymous_id=f"v{n % 2}", message_id=f"m{n}"))
    rows.append(row(SITE, START, anonymous_id="v0", message_id="o1", event="Order Completed", order_id="o1"))
    # Two events 15 minutes apart, alone on their day: one visit at a 30-minute gap, two at 10.
    rows += [row(SITE, GAP_DAY + dt.timedelta(minutes=m), anonymous_id="g", message_id=f"g{m}") for m in (0, 15)]
    return rows


def store(wh) -> None:
    from warehouse.queries import events

    events.insert_events(wh, history())
    wh.insert(
        "webhook_deliveries",
        pd.DataFrame(
            {
                "site_id": [SITE] * 3,
                "webhook_id": ["w1"] * 3,
                "delivery_id": ["d1", "d2", "d3"],
                "events": pd.Series([1, 2, 3], dtype="uint32"),
                "status": pd.Series([200, 500, 200], dtype="uint16"),
                "attempts": pd.Series([1, 3, 1], dtype="uint8"),
                "error": ["", "HTTP 500", ""],
                "sent_at": pd.to_datetime(["2025-01-05", "2025-02-05", "2025-03-05"]).astype("datetime64[s]"),
            }
        ),
    )
    wh.insert(
        "rec_served",
        pd.DataFrame(
            {
                "site_id": [SITE] * 2,
                "recommendation_id": ["r1", "r2"],
                "served_at": pd.to_datetime(["2025-01-05", "2025-04-05"]).astype("datetime64[s]"),
                "strategy": ["popular"] * 2,
                "context": ["home"] * 2,
                "model_version": pd.Series([1, 1], dtype="uint64"),
                "anonymous_id": ["v0", "v1"],
                "user_id": ["", ""],
                "item_ids": [["p1"], ["p2"]],
            }
        ),
    )
    for version in (1, 2):
        wh.insert(
            "rec_person_items",
            pd.DataFrame({"site_id": [SITE] * 2, "model_version": pd.Series([version] * 2, dtype="uint64"),
                          "person_id": ["v0", "v1"], "item_id": ["p1", "p2"], "score": [1.0, 2.0]}),
        )  # fmt: skip
        wh.insert(
            "rec_item_neighbors",
            pd.DataFrame({"site_id": [SITE], "model_version": pd.Series([version], dtype="uint64"),
                          "relation": ["also_viewed"], "item_id": ["p1"], "neighbor_id": ["p2"], "score": [0.5],
                          "support": [0.0], "lift": [0.0]}),
        )  # fmt: skip
        runs = {"site_id": [SITE], "model_version": pd.Series([version], dtype="uint64")}
        wh.insert(
            "person_scores",
            pd.DataFrame({**runs, "person_id": ["v0"], "orders": pd.Series([1], dtype="uint32"),
                          "historic_value": [9.5], "recency_score": pd.Series([3], dtype="uint8"),
                          "frequency_score": pd.Series([1], dtype="uint8"),
                          "monetary_score": pd.Series([2], dtype="uint8"),
                          "feedback_count": pd.Series([0], dtype="uint32"),
                          "computed_at": pd.to_datetime(["2025-01-05"]).astype("datetime64[s]")}),
        )  # fmt: skip
        wh.insert(
            "rec_sessions",
            pd.DataFrame({**runs, "session_id": ["s1"], "item_ids": [["p1", "p2"]],
                          "last_seen": pd.to_datetime(["2025-01-05"]).astype("datetime64[s]")}),
        )  # fmt: skip
        wh.insert("rec_popularity", pd.DataFrame({**runs, "context": ["overall"], "item_id": ["p1"], "score": [1.0]}))


class Crashed(Exception):
    pass


class Crashing:
    """The warehouse, failing at the first statement that matches ``pattern``."""

    def __init__(self, wh, pattern: str):
        self.wh, self.pattern = wh, re.compile(pattern)

    def __getattr__(self, name):
        return getattr(self.wh, name)

    def execute(self, sql, params=None):
        if self.pattern.match(sql):
            raise Crashed(sql)
        return self.wh.execute(sql, params)


def counts(wh) -> dict:
    """Rows per table; for visit_slots, recomputed from the events, the events its rows count (its rows
    are per insert block: over a cluster a visitor's day may be one row per shard before and one after)."""
    return {
        table: int(
            wh.scalar(
                f"SELECT {'sum(event_count)' if table == 'visit_slots' else 'count()'} FROM {table} "
                "WHERE site_id = {s:String}",
                {"s": SITE},
            )
            or 0
        )
        for table in TABLES
    }


def definition(wh, table: str) -> str:
    name = table + ("_local" if wh.cluster else "")
    return str(
        wh.scalar(
            "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
            {"t": name},
        )
    )


def check(url: str, cluster: str = "") -> dict:
    wh = connect(url, cluster=cluster)
    try:
        migrate(wh, until=BEFORE)
        store(wh)
        if wh.features["ttl"]:
            set_ttl(wh, KEEP_DAYS)  # a retention setting in force survives the rewrites
        before = counts(wh)
        # Interrupted twice: before one rename, and after another (the server stopped, say); each
        # run starts again where the last stopped.
        for crash_at in (
            r"RENAME TABLE (\w+\.)?events(_local)? ",
            r"DROP TABLE IF EXISTS (\w+\.)?webhook_deliveries_by",
        ):
            try:
                migrate(Crashing(wh, crash_at))
            except Crashed:
                pass
            else:
                raise AssertionError(f"the migrations never reached {crash_at}")
        migrate(wh)
        applied = [
            f"{r['version']:04d}_{r['name']}"
            for r in wh.query(
                "SELECT version, name FROM schema_migrations WHERE version > {v:UInt32} ORDER BY version", {"v": BEFORE}
            )
        ]
        again = migrate(wh)
        after = counts(wh)
        # The views over events work on the rewritten table: a new event reaches them.
        from warehouse.queries import events

        events.insert_events(wh, [row(SITE, dt.datetime(2026, 3, 1, 12), anonymous_id="v9", message_id="new")])
        fed = counts(wh)
        day = GAP_DAY.date()
        visits = {m: kpis.sessions(wh, SITE, day, day, timeout_minutes=m)["sessions"].tolist() for m in (10, 30)}
        return {
            "applied": applied,
            "again": again,
            "before": before,
            "after": after,
            "fed": fed,
            "visits": visits,
            "ttl_days": {t: current_ttl_days(wh, t) for t in ("events", "visit_slots", "webhook_deliveries")},
            "events": definition(wh, "events"),
            "webhook_deliveries": definition(wh, "webhook_deliveries"),
            "models": [definition(wh, t) for t in MODELS],
            "leftovers": sorted(
                r["name"]
                for r in wh.query(
                    "SELECT name FROM system.tables "
                    "WHERE database = currentDatabase() AND has({n:Array(String)}, name)",
                    {"n": [n + suffix for n in TEMPORARY for suffix in ("", "_local")]},
                )
            ),
        }
    finally:
        wh.close()


if __name__ == "__main__":
    print(json.dumps(check(sys.argv[1]), default=str))
