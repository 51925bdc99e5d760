"""Distinct visitors per product and kind: the simplest popularity, a baseline for the benches."""

from __future__ import annotations

import pandas as pd

from warehouse.engine.connection import Warehouse

VISITOR = "if(anonymous_id != '', anonymous_id, concat('user:', user_id))"


def product_interactions(warehouse: Warehouse, since_days: int = 90, min_visitors: int = 1) -> pd.DataFrame:
    """Per site and item: distinct non-bot visitors who viewed, added to cart and ordered it in the window.

    Items seen by fewer than ``min_visitors`` visitors are left out: a few fake events make no best-seller.
    """
    return warehouse.query_df(
        f"""
        SELECT site_id, item_id,
               uniqExactIf(visitor, kind = 'view') AS views, uniqExactIf(visitor, kind = 'cart') AS carts,
               uniqExactIf(visitor, kind = 'order') AS orders
        FROM (
            SELECT site_id, product_id AS item_id, {VISITOR} AS visitor,
                   if(event = 'Product Added', 'cart', 'view') AS kind
            FROM events
            WHERE type = 'track' AND event IN ('Product Viewed', 'Product Clicked', 'Product Added')
              AND product_id != '' AND is_bot = 0
              AND timestamp >= now() - toIntervalDay({{days:UInt32}})
            UNION ALL
            SELECT site_id, arrayJoin(item_ids) AS item_id, {VISITOR} AS visitor, 'order' AS kind
            FROM events
            WHERE type = 'track' AND event = 'Order Completed' AND is_bot = 0
              AND timestamp >= now() - toIntervalDay({{days:UInt32}})
        )
        GROUP BY site_id, item_id
        HAVING uniqExact(visitor) >= {{min_visitors:UInt32}}
        """,
        {"days": since_days, "min_visitors": min_visitors},
    )
