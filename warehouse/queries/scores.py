"""Reads and writes of the scores job: orders and feedback per person, and the scores."""

from __future__ import annotations

import pandas as pd

from warehouse.engine.connection import Warehouse

from .person_map import CHANNEL_ID_COLUMN, resolve
from .versions import delete_versions, newest_run


def order_days(warehouse: Warehouse, site_id: str) -> pd.DataFrame:
    """Revenue per person and day of ordering (same-day orders are one purchase for the models)."""
    per_ids = f"""
        SELECT anonymous_id, user_id, {CHANNEL_ID_COLUMN}, toStartOfDay(timestamp) AS day, sum(revenue) AS value
        FROM events
        WHERE site_id = {{site_id:String}} AND event = 'Order Completed' AND is_bot = 0
        GROUP BY anonymous_id, user_id, channel_id, day
    """
    return warehouse.query_df(
        f"""
        SELECT person_id AS customer, day AS when, sum(value) AS value
        FROM ({resolve(per_ids, ["day", "value"])})
        GROUP BY customer, when
        HAVING customer != ''
        """,
        {"site_id": site_id},
    )


def feedback(warehouse: Warehouse, site_id: str) -> pd.DataFrame:
    """Mean feedback score and number of answers per person."""
    per_ids = f"""
        SELECT anonymous_id, user_id, {CHANNEL_ID_COLUMN}, sum(score) AS total, count() AS answers
        FROM events
        WHERE site_id = {{site_id:String}} AND event = 'Feedback Submitted' AND score IS NOT NULL AND is_bot = 0
        GROUP BY anonymous_id, user_id, channel_id
    """
    return warehouse.query_df(
        f"""
        SELECT person_id, sum(total) / sum(answers) AS satisfaction, sum(answers) AS feedback_count
        FROM ({resolve(per_ids, ["total", "answers"])})
        GROUP BY person_id
        HAVING person_id != ''
        """,
        {"site_id": site_id},
    )


def write_scores(warehouse: Warehouse, frame: pd.DataFrame) -> int:
    return warehouse.insert("person_scores", frame)


# The site's rows of the newest scoring run.
NEWEST = f"site_id = {{site_id:String}} AND model_version = {newest_run('person_scores')}"
LATEST = f"""
SELECT * FROM person_scores
WHERE {NEWEST}
"""


def current_score(warehouse: Warehouse, site_id: str, keys: list[str]) -> dict | None:
    """One person's scores from the latest run, read under each key the jobs may file them by."""
    rows = warehouse.query(
        f"{LATEST}  AND person_id IN (SELECT arrayJoin({{keys:Array(String)}}))\nORDER BY orders DESC LIMIT 1",
        {"site_id": site_id, "keys": keys},
    )
    return rows[0] if rows else None


def prune_versions(warehouse: Warehouse, keep: int) -> int:
    """Delete each site's score versions but its ``keep`` newest; returns how many sites were pruned."""
    rows = warehouse.query(
        """
        SELECT site_id, arrayElement(arrayReverseSort(groupUniqArray(model_version)), {keep:UInt32}) AS oldest
        FROM person_scores GROUP BY site_id HAVING uniqExact(model_version) > {keep:UInt32}
        """,
        {"keep": max(int(keep), 1)},
    )
    for row in rows:
        oldest = int(row["oldest"])
        params = {"site_id": row["site_id"], "oldest": oldest}
        condition = "site_id = {site_id:String} AND model_version < {oldest:UInt64}"
        delete_versions(warehouse, "person_scores", condition, params, oldest)
    return len(rows)
