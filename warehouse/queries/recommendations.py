"""Reads and writes of the recommender: mined models, catalogue, serving log.

Mining jobs read interactions and write a new ``model_version`` of each model
(plus one row in ``rec_models``); the endpoint polls ``rec_models`` and loads
a site's models when a newer version appears.
"""

from __future__ import annotations

import time

import pandas as pd

from warehouse.engine.connection import Warehouse

from . import visit_items
from .person_map import CHANNEL_ID_COLUMN
from .versions import delete_versions, newest_person_model, person_model

# Imported orders carry their channel's customer id as user id (identity ``customer:``).
_INTERACTIONS = f"""
SELECT site_id, anonymous_id, user_id, channel_id, item_id, kind, time FROM (
    SELECT site_id, anonymous_id, user_id, {CHANNEL_ID_COLUMN}, product_id AS item_id,
           if(event = 'Product Added', 'cart', 'view') AS kind, toUInt32(timestamp) AS time
    FROM events
    WHERE type = 'track' AND event IN ('Product Viewed', 'Product Clicked', 'Product Added')
      AND product_id != '' AND is_bot = 0 AND timestamp >= now() - toIntervalDay({{days:UInt32}})
    UNION ALL
    SELECT site_id, anonymous_id, user_id, {CHANNEL_ID_COLUMN}, arrayJoin(item_ids) AS item_id,
           'purchase' AS kind, toUInt32(timestamp) AS time
    FROM events
    WHERE type = 'track' AND event = 'Order Completed' AND is_bot = 0
      AND timestamp >= now() - toIntervalDay({{days:UInt32}})
)
"""


def interactions(warehouse: Warehouse, since_days: int = 180) -> pd.DataFrame:
    """Views, cart adds and purchased items of every site: what every model mines."""
    frame = warehouse.query_df(_INTERACTIONS + " ORDER BY site_id, time", {"days": since_days})
    strings = dict.fromkeys(["site_id", "anonymous_id", "user_id", "item_id", "kind"])
    return _typed(frame, strings, {"channel_id": "uint8", "time": "int64"})


def _typed(frame: pd.DataFrame, strings: dict, numbers: dict) -> pd.DataFrame:
    """An empty result still has its columns (chDB returns none for no rows)."""
    if frame.empty:
        columns = {c: pd.Series(dtype="object") for c in strings} | {c: pd.Series(dtype=t) for c, t in numbers.items()}
        return pd.DataFrame(columns)
    return frame


_PRODUCT_COLUMNS = (
    {"site_id": 0, "product_id": 0, "name": 0, "category": 0},
    {"price": "float64", "out_of_stock": "uint8"},
)


def person_links(warehouse: Warehouse) -> pd.DataFrame:
    """``site_id, identity, person_id``: the stitched person of each linked identity.

    Read from the identity map (current state, as the profile page reads it),
    so recommendations follow the identity job's guard rails: an anonymous id
    of a device two customers share is not handed to whoever logged in last.
    Only identities of people with two or more are listed; any other id, and
    an id the map does not know yet, stands for itself (see ``request_identity``).
    """
    frame = warehouse.query_df(
        """
        SELECT site_id, identity, person_id FROM (
            SELECT site_id, person_id, groupArray(identity) AS identities FROM (
                SELECT site_id, identity, argMax(person_id, version) AS person_id
                FROM identity_map WHERE identity NOT LIKE 'email:%'
                GROUP BY site_id, identity
            ) AS current
            WHERE person_id != ''
            GROUP BY site_id, person_id HAVING count() > 1
        ) AS linked
        ARRAY JOIN identities AS identity
        """
    )
    return _typed(frame, {"site_id": "str", "identity": "str", "person_id": "str"}, {})


def request_identity(anonymous_id: str, user_id: str) -> str:
    """The identity-map key of a request's ids: its user id when it has one, as ``person_map`` reads it.

    Not ``people.identity_of``, which reads what an operator types (an email, ``anon:…``, a bare user id).
    """
    return "user:" + user_id if user_id else "anon:" + anonymous_id


def write_model(warehouse: Warehouse, table: str, model: str, frame: pd.DataFrame, version: int) -> int:
    """Insert a model's rows under ``version`` and record the version per site."""
    written = insert_model_rows(warehouse, table, frame, version)
    counts = frame.groupby("site_id").size() if len(frame) else pd.Series(dtype="int64")
    for site_id, rows in counts.items():
        record_version(warehouse, str(site_id), model, version, int(rows))
    return written


def insert_model_rows(warehouse: Warehouse, table: str, frame: pd.DataFrame, version: int) -> int:
    """Insert rows of a model under ``version`` (a job writing in parts records the version once, at the end)."""
    if table not in ("rec_item_neighbors", "rec_sessions", "rec_person_items", "rec_popularity"):
        raise ValueError(table)
    frame = frame.assign(model_version=version)
    frame["model_version"] = frame["model_version"].astype("uint64")
    return warehouse.insert(table, frame) if len(frame) else 0


def record_version(warehouse: Warehouse, site_id: str, model: str, version: int, rows: int) -> None:
    """A complete version of a site's model: what the endpoint polls."""
    record = pd.DataFrame({"site_id": [site_id], "model": model, "model_version": version, "rows": rows})
    record["model_version"] = record["model_version"].astype("uint64")
    record["rows"] = record["rows"].astype("uint64")
    record["computed_at"] = pd.Timestamp.now("UTC").floor("s").tz_localize(None)
    record["computed_at"] = record["computed_at"].astype("datetime64[s]")
    warehouse.insert("rec_models", record)


def recorded_rows(warehouse: Warehouse, site_id: str, model: str, version: int) -> int:
    """The rows ``record_version`` noted for a version of a site's model (0 if it was never recorded)."""
    return int(
        warehouse.scalar(
            "SELECT max(rows) FROM rec_models WHERE site_id = {site_id:String} AND model = {model:String} "
            "AND model_version = {version:UInt64}",
            {"site_id": site_id, "model": model, "version": version},
        )
        or 0
    )


# Where each model's versions live: (table, extra condition on its rows).
MODEL_TABLES = {
    "rules": ("rec_item_neighbors", "relation = 'bought_together'"),
    "cooccurrence": ("rec_item_neighbors", "relation IN ('also_viewed', 'bought_after_view')"),
    "sequential": ("rec_item_neighbors", "relation = 'followed_by'"),
    "sessions": ("rec_sessions", ""),
    "person": ("rec_person_items", ""),
    "popularity": ("rec_popularity", ""),
}


def prune_versions(warehouse: Warehouse, keep: int) -> dict[tuple[str, str], int]:
    """Delete every model version of a site but its ``keep`` newest; returns the oldest kept per (site, model).

    A version that the endpoint may still be serving is among the newest, so
    ``keep`` of 2 or more never pulls rows from under a reader. The per-person
    model also keeps every version since its last full run: a later run
    holds only the people who changed, the others' lists are older
    (``versions.person_model``).
    """
    rows = warehouse.query(
        """
        SELECT site_id, model, arrayElement(arrayReverseSort(groupUniqArray(model_version)), {keep:UInt32}) AS oldest,
               uniqExact(model_version) AS versions
        FROM rec_models GROUP BY site_id, model HAVING versions > {keep:UInt32}
        """,
        {"keep": max(int(keep), 1)},
    )
    pruned, deletes = {}, {}
    for n, row in enumerate(rows):
        if row["model"] not in MODEL_TABLES:
            continue
        table, extra = MODEL_TABLES[row["model"]]
        oldest = int(row["oldest"])
        if row["model"] == "person":
            last_full = visit_items.mark(warehouse, row["site_id"], job="person")
            if last_full and last_full["generation"]:
                oldest = min(oldest, last_full["generation"])
        condition = f"(site_id = {{site_{n}:String}} AND model_version < {{oldest_{n}:UInt64}}" + (
            f" AND {extra})" if extra else ")"
        )
        params = {f"site_{n}": row["site_id"], f"oldest_{n}": oldest}
        # A mutation rewrites parts: none is started for a model with nothing to delete.
        if not warehouse.scalar(f"SELECT count() FROM {table} WHERE {condition}", params):
            continue
        pruned[(row["site_id"], row["model"])] = oldest
        found = deletes.setdefault(table, ([], {}))
        found[0].append(condition)
        found[1].update(params)
    for table, (conditions, params) in deletes.items():
        # One statement per table, whatever its models and sites.
        below = max(v for k, v in params.items() if k.startswith("oldest_"))
        delete_versions(warehouse, table, " OR ".join(conditions), params, below)
    return pruned


def latest_versions(warehouse: Warehouse) -> dict[tuple[str, str], int]:
    """(site, model) -> newest version: the endpoint's cheap poll."""
    rows = warehouse.query("SELECT site_id, model, max(model_version) AS v FROM rec_models GROUP BY site_id, model")
    return {(r["site_id"], r["model"]): int(r["v"]) for r in rows}


def person_items(warehouse: Warehouse, site_id: str, keys: list[str], limit: int = 10) -> list[dict]:
    """The items the latest per-person model holds for one person, best first, with their names.

    ``keys`` are the ids the job may have filed the person under; the reads
    go through the sort key ``(site_id, model_version, person_id)``.
    """
    version = newest_person_model(warehouse, site_id)
    people = "SELECT arrayJoin({keys:Array(String)})"
    mine = f"SELECT item_id, score FROM ({person_model('{version:UInt64}', people)})"
    return warehouse.query(
        f"""
        SELECT item_id, score, name FROM (SELECT item_id, max(score) AS score FROM ({mine}) GROUP BY item_id) AS items
        ANY LEFT JOIN (
            SELECT product_id AS item_id, argMax(name, version) AS name FROM products
            WHERE site_id = {{site_id:String}} AND product_id IN (SELECT item_id FROM ({mine}))
            GROUP BY product_id
        ) AS names USING item_id
        ORDER BY score DESC, item_id LIMIT {{limit:UInt32}}
        """,
        {"site_id": site_id, "keys": keys, "limit": limit, "version": version},
    )


def load_model(warehouse: Warehouse, table: str, site_id: str, version: int) -> pd.DataFrame:
    """A model's rows as of ``version`` (the per-person model: each person's newest list, ``person_model``)."""
    if table == "rec_person_items":
        frame = warehouse.query_df(person_model("{version:UInt64}"), {"site_id": site_id, "version": version})
        return _typed(frame, ["person_id", "item_id"], {"score": "float64"})
    columns, strings, numbers = {
        "rec_item_neighbors": (
            "relation, item_id, neighbor_id, score",
            ["relation", "item_id", "neighbor_id"],
            ["score"],
        ),
        "rec_sessions": (
            "session_id, item_ids, toUInt32(last_seen) AS last_seen",
            ["session_id", "item_ids"],
            ["last_seen"],
        ),
        "rec_popularity": ("context, item_id, score", ["context", "item_id"], ["score"]),
    }[table]
    frame = warehouse.query_df(
        f"SELECT {columns} FROM {table} WHERE site_id = {{site:String}} AND model_version = {{v:UInt64}}",
        {"site": site_id, "v": version},
    )
    return _typed(frame, dict.fromkeys(strings), dict.fromkeys(numbers, "float64"))


def catalog(warehouse: Warehouse, site_id: str) -> pd.DataFrame:
    """``item_id, category, price, out_of_stock``: the products table, newest version."""
    frame = warehouse.query_df(
        """
        SELECT product_id AS item_id, argMax(category, version) AS category, argMax(price, version) AS price,
               argMax(out_of_stock, version) AS out_of_stock
        FROM products WHERE site_id = {site:String} GROUP BY product_id
        """,
        {"site": site_id},
    )
    return _typed(frame, dict.fromkeys(["item_id", "category"]), {"price": "float64", "out_of_stock": "uint8"})


def catalog_version(warehouse: Warehouse) -> int:
    return int(warehouse.scalar("SELECT max(version) FROM products") or 0)


def tracked_products(warehouse: Warehouse, since_days: int = 180) -> pd.DataFrame:
    """What events say about each product: latest name, category, price, stock flag.

    ``out_of_stock`` is -1 when no event carried the property: events that say
    nothing about stock leave the stored flag alone.
    """
    frame = warehouse.query_df(
        """
        SELECT site_id, product_id, argMax(product_name, timestamp) AS name,
               argMax(category, timestamp) AS category, argMax(price, timestamp) AS price,
               if(max(visitParamHas(properties, 'out_of_stock')) = 1,
                  toInt8(argMaxIf(visitParamExtractBool(properties, 'out_of_stock'), timestamp,
                                  visitParamHas(properties, 'out_of_stock') = 1)),
                  toInt8(-1)) AS out_of_stock
        FROM events
        WHERE type = 'track' AND event IN ('Product Viewed', 'Product Clicked', 'Product Added')
          AND product_id != '' AND timestamp >= now() - toIntervalDay({days:UInt32})
        GROUP BY site_id, product_id
        """,
        {"days": since_days},
    )
    return _typed(frame, *_PRODUCT_COLUMNS)


def write_products(warehouse: Warehouse, frame: pd.DataFrame) -> int:
    """New versions of catalogue rows (``site_id, product_id, name, category, price, out_of_stock``)."""
    frame = frame.assign(version=time.time_ns())
    frame["version"] = frame["version"].astype("uint64")
    frame["out_of_stock"] = frame["out_of_stock"].astype("uint8")
    frame["price"] = frame["price"].astype("float64")
    return warehouse.insert("products", frame)


def recent_events(warehouse: Warehouse, since) -> list[dict]:
    """Events loaded at or after ``since`` that matter to a live session (``claimed``: the user id is unverified)."""
    return warehouse.query(
        """
        SELECT site_id, message_id, anonymous_id, user_id, has(flags, 'claimed') AS claimed, event, product_id,
               item_ids, toUInt32(timestamp) AS time, toUInt32(received_at) AS received
        FROM events
        WHERE received_at >= {since:DateTime} AND timestamp >= {since:DateTime} - toIntervalDay(1)
          AND type = 'track' AND is_bot = 0
          AND event IN ('Product Viewed', 'Product Clicked', 'Product Added', 'Product Removed', 'Order Completed')
        ORDER BY received_at
        LIMIT 100000
        """,
        {"since": since},
    )


def write_served(warehouse: Warehouse, rows: list[dict]) -> int:
    if not rows:
        return 0
    frame = pd.DataFrame(rows)
    frame["served_at"] = pd.to_datetime(frame["served_at"], unit="s").astype("datetime64[s]")
    frame["model_version"] = frame["model_version"].astype("uint64")
    return warehouse.insert("rec_served", frame)


def current_products(warehouse: Warehouse) -> pd.DataFrame:
    """Every site's stored catalogue rows, newest version."""
    frame = warehouse.query_df(
        """
        SELECT site_id, product_id, argMax(name, version) AS name, argMax(category, version) AS category,
               argMax(price, version) AS price, argMax(out_of_stock, version) AS out_of_stock
        FROM products GROUP BY site_id, product_id
        """
    )
    return _typed(frame, *_PRODUCT_COLUMNS)


def set_stock(warehouse: Warehouse, site_id: str, product_id: str, out_of_stock: bool) -> None:
    """Flag a product out of stock (or back in): a new version of its row."""
    rows = warehouse.query(
        """
        SELECT argMax(name, version) AS name, argMax(category, version) AS category, argMax(price, version) AS price
        FROM products WHERE site_id = {site:String} AND product_id = {product:String}
        """,
        {"site": site_id, "product": product_id},
    )
    known = rows[0] if rows and rows[0]["name"] is not None else {"name": "", "category": "", "price": 0.0}
    frame = pd.DataFrame([{"site_id": site_id, "product_id": product_id, **known, "out_of_stock": int(out_of_stock)}])
    write_products(warehouse, frame)


def write_evaluation(warehouse: Warehouse, dataset: str, rows: list[dict]) -> int:
    """One offline evaluation run: a row per strategy."""
    now = pd.Timestamp.now("UTC").floor("s").tz_localize(None)
    frame = pd.DataFrame(
        {
            "run_id": time.time_ns(),
            "evaluated_at": now,
            "dataset": dataset,
            "strategy": [r["strategy"] for r in rows],
            "shipped": [int(r["shipped"]) for r in rows],
            "hr": [r["hr@20"] for r in rows],
            "mrr": [r["mrr@20"] for r in rows],
            "coverage": [r["coverage@20"] for r in rows],
            "popularity": [r["popularity@20"] for r in rows],
            "predictions": [r["predictions"] for r in rows],
            "seconds": [float(r["seconds"]) for r in rows],
        }
    )
    frame["run_id"] = frame["run_id"].astype("uint64")
    frame["predictions"] = frame["predictions"].astype("uint64")
    frame["shipped"] = frame["shipped"].astype("uint8")
    frame["evaluated_at"] = frame["evaluated_at"].astype("datetime64[s]")
    return warehouse.insert("rec_evaluations", frame)


def latest_evaluation(warehouse: Warehouse) -> list[dict]:
    """The newest run's rows, shipped strategy marked."""
    return warehouse.query(
        """
        SELECT run_id, evaluated_at, dataset, strategy, shipped, hr, mrr, coverage, popularity, predictions, seconds
        FROM rec_evaluations
        WHERE run_id = (SELECT max(run_id) FROM rec_evaluations)
        ORDER BY mrr DESC, strategy
        """
    )


_FEEDBACK = """
SELECT visitParamExtractString(properties, 'recommendation_id') AS recommendation_id,
       visitParamExtractString(properties, 'slot') AS event_slot,
       toUInt64(event = 'Recommendation Shown') AS shown, toUInt64(event = 'Recommendation Clicked') AS clicks,
       toFloat64(0) AS revenue, toUInt64(0) AS orders
FROM events
WHERE site_id = {site_id:String} AND type = 'track' AND timestamp >= now() - toIntervalDay({days:UInt32})
  AND event IN ('Recommendation Shown', 'Recommendation Clicked')
"""


def attributed_items(clicks_in: str, orders_in: str) -> str:
    """Ordered items a recommendation click led to: one row per (order, item, earlier click).

    An ordered item counts for a click on it that came before the order,
    within the attribution window (``{window:UInt32}`` seconds), by the same
    visitor. ``clicks_in`` and ``orders_in`` are fixed filters on
    ``attribution_events`` (clicks and orders only, sorted by event and day);
    the recommendations page and the KPI dashboard differ only there. Orders
    meet clicks by visitor and window-long time slot (a click's own and the
    next), not every click of the visitor ever.
    """
    return f"""
    SELECT recommendation_id, item_id, click_time, order_key, order_day, order_time, anonymous_id, order_user_id,
           arrayElement(item_prices, indexOf(item_ids, item_id))
             * greatest(toFloat64(arrayElement(item_quantities, indexOf(item_ids, item_id))), 1.0) AS item_revenue
    FROM (
        SELECT anonymous_id, user_id AS order_user_id, message_id AS order_key, toUInt32(timestamp) AS order_time,
               date AS order_day, item_ids, item_prices, item_quantities,
               toUInt64(intDiv(toUInt32(timestamp), {{window:UInt32}})) AS slot
        FROM attribution_events
        WHERE site_id = {{site_id:String}} AND event = 'Order Completed' AND {orders_in}
    ) AS orders_placed
    ALL INNER JOIN (
        SELECT anonymous_id, recommendation_id, item_id, toUInt32(timestamp) AS click_time,
               toUInt64(intDiv(click_time, {{window:UInt32}})) AS click_slot,
               arrayJoin([click_slot, click_slot + 1]) AS slot
        FROM attribution_events
        WHERE site_id = {{site_id:String}} AND event = 'Recommendation Clicked' AND {clicks_in}
    ) AS recommendation_clicks USING anonymous_id, slot
    WHERE order_time >= click_time AND order_time <= click_time + {{window:UInt32}} AND has(item_ids, item_id)
    """


_LAST_DAYS = "timestamp >= now() - toIntervalDay({days:UInt32})"
# Each ordered item once, credited to the latest click before the order.
_ATTRIBUTED = f"""
SELECT argMax(recommendation_id, click_time) AS recommendation_id, '' AS event_slot,
       toUInt64(0) AS shown, toUInt64(0) AS clicks, any(item_revenue) AS revenue, toUInt64(1) AS orders
FROM ({attributed_items(_LAST_DAYS, _LAST_DAYS)})
GROUP BY order_key, item_id
"""


def recommendation_performance(warehouse: Warehouse, site_id: str, days: int = 30, window_days: int = 7) -> list[dict]:
    """Impressions, clicks, CTR, attributed orders and revenue per strategy and slot.

    The strategy comes from the served log (``rec_served``), the slot from
    the tracker's events (the answer's context when the tracker sent none).
    """
    sql = f"""
    SELECT strategy, slot, sum(n_shown) AS impressions, sum(n_clicks) AS clicks,
           if(impressions > 0, clicks / impressions, 0) AS ctr,
           sum(n_orders) AS orders, sum(n_revenue) AS revenue, count() AS served
    FROM (
        SELECT recommendation_id, strategy, if(event_slot != '', event_slot, served_context) AS slot,
               shown AS n_shown, clicks AS n_clicks, revenue AS n_revenue, orders AS n_orders
        FROM (
            SELECT recommendation_id, any(strategy) AS strategy, any(context) AS served_context
            FROM rec_served
            WHERE site_id = {{site_id:String}} AND served_at >= now() - toIntervalDay({{days:UInt32}})
            GROUP BY recommendation_id
        ) AS served
        ANY LEFT JOIN (
            SELECT recommendation_id, max(event_slot) AS event_slot, sum(shown) AS shown, sum(clicks) AS clicks,
                   sum(revenue) AS revenue, sum(orders) AS orders
            FROM ({_FEEDBACK} UNION ALL {_ATTRIBUTED})
            GROUP BY recommendation_id
        ) AS feedback USING recommendation_id
    )
    GROUP BY strategy, slot
    ORDER BY revenue DESC, clicks DESC, strategy, slot
    """
    return warehouse.query(sql, {"site_id": site_id, "days": days, "window": window_days * 86400})


def model_status(warehouse: Warehouse, site_id: str) -> list[dict]:
    """Each model's newest version for a site: when it was computed and how many rows."""
    return warehouse.query(
        """
        SELECT model, max(v) AS model_version, argMax(n, v) AS rows, argMax(at, v) AS computed_at
        FROM (
            SELECT model, model_version AS v, rows AS n, computed_at AS at
            FROM rec_models WHERE site_id = {site:String}
        )
        GROUP BY model ORDER BY model
        """,
        {"site": site_id},
    )
