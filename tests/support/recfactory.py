"""Tiny factories for recommendation tests: a store's clickstream as event rows."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from warehouse.queries import events


def event(site_id: str, anonymous_id: str, name: str, minutes_ago: float = 60, **extra) -> dict:
    when = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) - dt.timedelta(minutes=minutes_ago)
    props = extra.pop("props", {})
    return {
        **events.EVENT_COLUMNS,
        "site_id": site_id,
        "message_id": uuid.uuid4().hex,
        "type": extra.pop("type", "track"),
        "event": name,
        "anonymous_id": anonymous_id,
        "timestamp": when,
        "original_timestamp": when,
        "sent_at": when,
        "received_at": extra.pop("received_at", when),
        "properties": json.dumps(props, separators=(",", ":")),
        **extra,
    }


def visit(site_id: str, visitor: str, viewed: list, bought: list, minutes_ago: float, user_id: str = "") -> list:
    """Views, cart adds and one order, a minute apart."""
    rows = []
    for i, item in enumerate(viewed):
        at = minutes_ago - i
        rows.append(
            event(
                site_id,
                visitor,
                "Product Viewed",
                at,
                product_id=item,
                user_id=user_id,
                category="Home" if item < "m" else "Toys",
                price=10.0 + ord(item[0]) % 10,
            )
        )
    for item in bought:
        rows.append(
            event(site_id, visitor, "Product Added", minutes_ago - len(viewed), product_id=item, user_id=user_id)
        )
    if bought:
        rows.append(
            event(
                site_id,
                visitor,
                "Order Completed",
                minutes_ago - len(viewed) - 1,
                user_id=user_id,
                order_id=uuid.uuid4().hex[:8],
                item_ids=list(bought),
                item_prices=[10.0] * len(bought),
                item_quantities=[1] * len(bought),
                revenue=10.0 * len(bought),
            )
        )
    return rows


def store_history(site_id: str) -> list[dict]:
    """A small store: lamps go with bulbs, toys with batteries; one customer on two devices."""
    rows = []
    for n in range(6):
        rows += visit(site_id, f"v{n}", ["lamp", "bulb", "shade"], ["lamp", "bulb"], 600 + n * 60)
    for n in range(6, 10):
        rows += visit(site_id, f"v{n}", ["robot", "battery", "kite"], ["robot", "battery"], 600 + n * 60)
    rows += visit(site_id, "phone-1", ["lamp", "shade"], [], 300, user_id="alice")
    rows += visit(site_id, "laptop-1", ["robot"], [], 200)
    rows.append(event(site_id, "laptop-1", "", 190, type="identify", user_id="alice"))
    rows.append(event(site_id, "x", "Product Viewed", 100, product_id="dusty", props={"out_of_stock": True}))
    return rows
