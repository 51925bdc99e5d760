"""Reads for product audiences: who interacted with which product, how, and when."""

from __future__ import annotations

import pandas as pd

from warehouse.engine.connection import Warehouse

from .person_map import CHANNEL_ID_COLUMN, resolve


def person_item_interactions(warehouse: Warehouse, site_id: str, since_days: int = 180) -> pd.DataFrame:
    """One row per person, product and kind (view, cart, order) with the latest time, over the window."""
    per_ids = f"""
        SELECT anonymous_id, user_id, channel_id, item_id, kind, max(timestamp) AS last_at, count() AS n
        FROM (
            SELECT anonymous_id, user_id, {CHANNEL_ID_COLUMN}, product_id AS item_id, timestamp,
                   if(event = 'Product Added', 'cart', 'view') AS kind
            FROM events
            WHERE site_id = {{site_id:String}} AND is_bot = 0 AND product_id != ''
              AND event IN ('Product Viewed', 'Product Clicked', 'Product Added')
              AND timestamp >= (SELECT max(timestamp) FROM events WHERE site_id = {{site_id:String}})
                               - toIntervalDay({{days:UInt32}})
            UNION ALL
            SELECT anonymous_id, user_id, {CHANNEL_ID_COLUMN}, arrayJoin(item_ids) AS item_id, timestamp,
                   'order' AS kind
            FROM events
            WHERE site_id = {{site_id:String}} AND is_bot = 0 AND event = 'Order Completed'
              AND timestamp >= (SELECT max(timestamp) FROM events WHERE site_id = {{site_id:String}})
                               - toIntervalDay({{days:UInt32}})
        )
        WHERE item_id != ''
        GROUP BY anonymous_id, user_id, channel_id, item_id, kind
    """
    return warehouse.query_df(
        f"""
        SELECT person_id, item_id, kind, max(last_at) AS last_at, sum(n) AS n
        FROM ({resolve(per_ids, ["item_id", "kind", "last_at", "n"])})
        WHERE person_id != ''
        GROUP BY person_id, item_id, kind
        """,
        {"site_id": site_id, "days": since_days},
    )
