"""Scale test data: copies of a site's real events under new people, for benchmarks.

Each copy renames people, messages and orders with a suffix and shifts time
back by a whole number of days, so the copies look like more shoppers of the
same store rather than the same shoppers repeated. (The source is filtered in
a subquery: the REPLACE aliases would otherwise shadow the columns in WHERE.)
Uses ``SELECT * REPLACE``, so it runs on chDB and current servers only.
"""

from __future__ import annotations

from warehouse.engine.connection import Warehouse

_COPY = """
INSERT INTO events
SELECT * REPLACE (
    {target:String} AS site_id,
    concat(message_id, '-', toString(number)) AS message_id,
    concat(anonymous_id, '-', toString(number)) AS anonymous_id,
    if(user_id = '', '', concat(user_id, '-', toString(number))) AS user_id,
    if(order_id = '', '', concat(order_id, '-', toString(number))) AS order_id,
    timestamp - (number % {spread_days:UInt32}) * 86400 AS timestamp
)
FROM (SELECT * FROM events WHERE site_id = {source:String})
ARRAY JOIN range({first:UInt32}, {last:UInt32}) AS number
"""


def replicate_events(warehouse: Warehouse, source: str, target: str, first: int, last: int, spread_days: int) -> None:
    """Insert copies ``first`` .. ``last - 1`` of the source site's events into the target site."""
    warehouse.execute(
        _COPY, {"source": source, "target": target, "first": first, "last": last, "spread_days": spread_days}
    )
