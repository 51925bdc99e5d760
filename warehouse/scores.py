"""Reads and writes of the scores job: orders and feedback per person, and the scores."""

from __future__ import annotations

import pandas as pd

from .connection import Warehouse
from .segments import person_expr


def order_days(warehouse: Warehouse, site_id: str) -> pd.DataFrame:
    """Revenue per person and day of ordering (same-day orders are one purchase for the models)."""
    return warehouse.query_df(
        f"""
        SELECT {person_expr()} AS customer, toStartOfDay(timestamp) AS when, sum(revenue) AS value
        FROM events
        WHERE site_id = {{site_id:String}} AND event = 'Order Completed' AND is_bot = 0
        GROUP BY customer, when
        HAVING customer != ''
        """,
        {"site_id": site_id},
    )


def feedback(warehouse: Warehouse, site_id: str) -> pd.DataFrame:
    """Mean feedback score and number of answers per person."""
    return warehouse.query_df(
        f"""
        SELECT {person_expr()} AS person_id, avg(score) AS satisfaction, count() AS feedback_count
        FROM events
        WHERE site_id = {{site_id:String}} AND event = 'Feedback Submitted' AND score IS NOT NULL AND is_bot = 0
        GROUP BY person_id
        HAVING person_id != ''
        """,
        {"site_id": site_id},
    )


def write_scores(warehouse: Warehouse, frame: pd.DataFrame) -> int:
    return warehouse.insert("person_scores", frame)


LATEST = """
SELECT * FROM person_scores
WHERE site_id = {site_id:String}
  AND model_version = (SELECT max(model_version) FROM person_scores WHERE site_id = {site_id:String})
"""


def person_score(warehouse: Warehouse, site_id: str, person_id: str) -> dict | None:
    rows = warehouse.query(
        f"SELECT * FROM ({LATEST}) WHERE person_id = {{person_id:String}}", {"site_id": site_id, "person_id": person_id}
    )
    return rows[0] if rows else None


def top_scores(warehouse: Warehouse, site_id: str, order_by: str = "predicted_value", limit: int = 100) -> list[dict]:
    """Highest scored people by one of a fixed set of columns."""
    column = {"predicted_value": "predicted_value", "churn_risk": "churn_risk", "historic_value": "historic_value"}[
        order_by
    ]
    return warehouse.query(
        f"SELECT * FROM ({LATEST}) ORDER BY {column} DESC, person_id LIMIT {{limit:UInt32}}",
        {"site_id": site_id, "limit": limit},
    )
