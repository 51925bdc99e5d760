"""Reads for product audiences: who interacted with which product, how, and when."""

from __future__ import annotations

import pandas as pd

from .connection import Warehouse
from .segments import person_expr


def person_item_interactions(warehouse: Warehouse, site_id: str, since_days: int = 180) -> pd.DataFrame:
    """One row per person, product and kind (view, cart, order) with the latest time, over the window."""
    person = person_expr()
    return warehouse.query_df(
        f"""
        SELECT person_id, item_id, kind, max(timestamp) AS last_at, count() AS n
        FROM (
            SELECT {person} AS person_id, product_id AS item_id, timestamp,
                   if(event = 'Product Added', 'cart', 'view') AS kind
            FROM events
            WHERE site_id = {{site_id:String}} AND is_bot = 0 AND product_id != ''
              AND event IN ('Product Viewed', 'Product Clicked', 'Product Added')
              AND timestamp >= (SELECT max(timestamp) FROM events WHERE site_id = {{site_id:String}})
                               - toIntervalDay({{days:UInt32}})
            UNION ALL
            SELECT {person} AS person_id, arrayJoin(item_ids) AS item_id, timestamp, 'order' AS kind
            FROM events
            WHERE site_id = {{site_id:String}} AND is_bot = 0 AND event = 'Order Completed'
              AND timestamp >= (SELECT max(timestamp) FROM events WHERE site_id = {{site_id:String}})
                               - toIntervalDay({{days:UInt32}})
        )
        WHERE person_id != '' AND item_id != ''
        GROUP BY person_id, item_id, kind
        """,
        {"site_id": site_id, "days": since_days},
    )
