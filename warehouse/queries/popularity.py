"""Reads and writes of the popularity job."""

from __future__ import annotations

import pandas as pd

from warehouse.engine.connection import Warehouse


def product_interactions(warehouse: Warehouse, since_days: int = 90) -> pd.DataFrame:
    """Per site and item: views, cart adds and units ordered in the window."""
    return warehouse.query_df(
        """
        SELECT site_id, item_id,
               sum(kind = 'view') AS views, sum(kind = 'cart') AS carts, sum(kind = 'order') AS orders
        FROM (
            SELECT site_id, product_id AS item_id,
                   if(event = 'Product Added', 'cart', 'view') AS kind
            FROM events
            WHERE type = 'track' AND event IN ('Product Viewed', 'Product Clicked', 'Product Added')
              AND product_id != '' AND is_bot = 0
              AND timestamp >= now() - toIntervalDay({days:UInt32})
            UNION ALL
            SELECT site_id, arrayJoin(item_ids) AS item_id, 'order' AS kind
            FROM events
            WHERE type = 'track' AND event = 'Order Completed' AND is_bot = 0
              AND timestamp >= now() - toIntervalDay({days:UInt32})
        )
        GROUP BY site_id, item_id
        """,
        {"days": since_days},
    )


def write_popularity(warehouse: Warehouse, frame: pd.DataFrame) -> int:
    return warehouse.insert("item_popularity", frame)
