"""What a newly installed site has sent so far: the admin's installation check."""

from __future__ import annotations

from warehouse.engine.connection import Warehouse

ECOMMERCE = (
    "Products Searched",
    "Product List Viewed",
    "Product Clicked",
    "Product Viewed",
    "Product Added",
    "Product Removed",
    "Cart Viewed",
    "Checkout Started",
    "Order Completed",
    "Order Refunded",
)
# One kind per event: what the installation check asks about.
_KIND = (
    "multiIf(type = 'identify', 'identify', has({ecommerce:Array(String)}, event), 'ecommerce', "
    "type = 'page', 'page', 'other')"
)

TOTALS = f"""
SELECT count() AS events, max(received_at) AS last_event,
       countIf(type = 'page') AS page_views,
       countIf({_KIND} = 'ecommerce') AS ecommerce,
       countIf(type = 'identify') AS identifies,
       groupUniqArrayIf(event, {_KIND} = 'ecommerce') AS ecommerce_events
FROM events
WHERE site_id = {{site_id:String}} AND library_name != 'basirat-import'
"""

TOP_PAGES = f"""
SELECT {_KIND} AS kind, path, count() AS events, max(received_at) AS last_event
FROM events
WHERE site_id = {{site_id:String}} AND library_name != 'basirat-import' AND path != ''
GROUP BY kind, path
ORDER BY kind, events DESC, path
LIMIT 3 BY kind
"""


def install_status(warehouse: Warehouse, site_id: str) -> dict:
    """Counts of page views, ecommerce events and identify calls sent by the store (imports left out),
    the last one's time, and the pages each kind came from (three per kind)."""
    params = {"site_id": site_id, "ecommerce": list(ECOMMERCE)}
    totals = warehouse.query(TOTALS, params)[0]
    pages: dict[str, list[dict]] = {}
    for row in warehouse.query(TOP_PAGES, params):
        pages.setdefault(row["kind"], []).append(row)
    totals["ecommerce_events"] = sorted(totals["ecommerce_events"])
    totals["last_event"] = totals["last_event"] if totals["events"] else None
    return {**totals, "pages": pages}
